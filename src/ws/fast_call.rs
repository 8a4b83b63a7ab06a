//! The per-message calls from JS, as plain Node-API callbacks: `NativeWsConnection`'s
//! `sendBuffer` and `sendString`, `NativeWsHub`'s `broadcast` and `publish`.
//!
//! A `#[napi]` class method pays napi-rs's per-call borrow tracking: a process-wide mutex and
//! hash map entry for `&self`, taken and released around every call, on top of Node-API's own
//! unwrap. Measured on this machine (BENCHMARKS.md), a method taking a `u32` costs ~360 ns per
//! call against ~140 ns for the same callback written here (type tag checked, object unwrapped,
//! nothing else); a server calls these once per message it sends. The generated methods stay
//! (the rest of the API uses them); `lib/ws-hub.js` installs these on the classes' prototypes
//! under the same names, with the same arguments and results, and each calls the generated
//! method's Rust body.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use super::server::{NativeWsConnection, NativeWsHub};

/// `this` as the `T` it wraps; an error for any other object (the type tag is checked before
/// the pointer is used, as napi-rs's own glue does).
///
/// # Safety
/// `env` and `this` come from the current callback.
unsafe fn this_as<'a, T: TypeTag + 'static>(
    env: sys::napi_env,
    this: sys::napi_value,
    name: &str,
) -> Result<&'a T> {
    let tag = T::type_tag();
    let mut tagged = false;
    let status = unsafe { sys::napi_check_object_type_tag(env, this, &tag, &mut tagged) };
    if status != sys::Status::napi_ok || !tagged {
        return Err(Error::new(Status::InvalidArg, format!("not a {name}")));
    }
    let mut wrapped = ptr::null_mut();
    check_status!(
        unsafe { sys::napi_unwrap(env, this, &mut wrapped) },
        "not a {}",
        name
    )?;
    Ok(unsafe { &*(wrapped as *const T) })
}

/// Runs `f(env, this, args)` (missing arguments are `undefined`) and returns its `u32` to JS,
/// or throws its error. A panic (none is expected) is thrown as an error instead of unwinding
/// into Node.
///
/// # Safety
/// Called by Node as a function callback.
unsafe fn call<T: TypeTag + 'static, const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    name: &str,
    f: fn(sys::napi_env, &T, [sys::napi_value; N]) -> Result<u32>,
) -> sys::napi_value {
    let run = || -> Result<sys::napi_value> {
        let mut argc = N;
        let mut args = [ptr::null_mut(); N];
        let mut this = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                args.as_mut_ptr(),
                &mut this,
                ptr::null_mut(),
            )
        })?;
        let target = unsafe { this_as::<T>(env, this, name) }?;
        let result = f(env, target, args)?;
        unsafe { u32::to_napi_value(env, result) }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            unsafe { JsError::from(err).throw_into(env) };
            ptr::null_mut()
        }
        Err(_) => {
            let err = Error::new(Status::GenericFailure, format!("panic in {name}"));
            unsafe { JsError::from(err).throw_into(env) };
            ptr::null_mut()
        }
    }
}

/// `value` converted as the generated method's argument of type `A` is.
fn arg<A: FromNapiValue>(env: sys::napi_env, value: sys::napi_value) -> Result<A> {
    unsafe { A::from_napi_value(env, value) }
}

/// A Node-API callback `$name` that runs `$body` with `this` as a `$class` and the callback's
/// arguments bound to the names in brackets (their count is the callback's arity).
macro_rules! fast_method {
    ($name:ident, $class:ident, |$env:ident, $this:ident, [$($arg:ident),*]| $body:expr) => {
        unsafe extern "C" fn $name(
            env: sys::napi_env,
            info: sys::napi_callback_info,
        ) -> sys::napi_value {
            unsafe {
                call(env, info, stringify!($class), |$env, $this: &$class, [$($arg),*]| $body)
            }
        }
    };
}

fast_method!(
    send_buffer,
    NativeWsConnection,
    |env, conn, [data, flags]| { Ok(conn.send_buffer(arg(env, data)?, arg(env, flags)?)) }
);
fast_method!(
    send_string,
    NativeWsConnection,
    |env, conn, [data, flags]| { Ok(conn.send_string(arg(env, data)?, arg(env, flags)?)) }
);
fast_method!(
    broadcast,
    NativeWsHub,
    |env, hub, [data, binary, except]| {
        Ok(hub.broadcast(arg(env, data)?, arg(env, binary)?, arg(env, except)?))
    }
);
fast_method!(
    publish,
    NativeWsHub,
    |env, hub, [topic, data, binary, except]| {
        Ok(hub.publish(
            arg(env, topic)?,
            arg(env, data)?,
            arg(env, binary)?,
            arg(env, except)?,
        ))
    }
);

/// An object of functions made from `callbacks`, each under its name.
fn methods<'env>(env: &'env Env, callbacks: &[(&str, sys::napi_callback)]) -> Result<Object<'env>> {
    let mut object = Object::new(env)?;
    for &(name, cb) in callbacks {
        let mut f = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr().cast(),
                name.len() as isize,
                cb,
                ptr::null_mut(),
                &mut f,
            )
        })?;
        unsafe { object.set_named_property(name, Unknown::from_raw_unchecked(env.raw(), f)) }?;
    }
    Ok(object)
}

/// `{ connection: { sendBuffer, sendString }, hub: { broadcast, publish } }`, to be installed
/// on `NativeWsConnection.prototype` and `NativeWsHub.prototype` by `lib/ws-hub.js`: the same
/// methods without napi-rs's per-call borrow tracking.
#[napi_derive::napi(
    ts_return_type = "{ connection: { sendBuffer: Function, sendString: Function }, hub: { broadcast: Function, publish: Function } }"
)]
pub fn fast_call_methods(env: &Env) -> Result<Object<'_>> {
    let mut all = Object::new(env)?;
    all.set_named_property(
        "connection",
        methods(
            env,
            &[
                ("sendBuffer", Some(send_buffer)),
                ("sendString", Some(send_string)),
            ],
        )?,
    )?;
    all.set_named_property(
        "hub",
        methods(
            env,
            &[("broadcast", Some(broadcast)), ("publish", Some(publish))],
        )?,
    )?;
    Ok(all)
}
