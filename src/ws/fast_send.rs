//! `NativeWsConnection`'s two hottest methods, `sendBuffer` and `sendString`, as plain Node-API
//! callbacks.
//!
//! A `#[napi]` class method pays napi-rs's per-call borrow tracking: a process-wide mutex and
//! hash map entry for `&self`, taken and released around every call, on top of Node-API's own
//! unwrap. Measured on this machine (BENCHMARKS.md), a method taking a `u32` costs ~360 ns per
//! call against ~140 ns for the same callback written here (type tag checked, object unwrapped,
//! nothing else); on the echo path that is one call per message. The generated methods stay (the
//! rest of the API uses them); `lib/ws-hub.js` installs these two on the class's prototype under
//! the same names, with the same arguments and results (see `send_buffer` in `server.rs`).

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use super::server::NativeWsConnection;

/// `this` as the `NativeWsConnection` it wraps; an error for any other object (the type tag
/// is checked before the pointer is used, as napi-rs's own glue does).
///
/// # Safety
/// `env` and `this` come from the current callback.
unsafe fn connection<'a>(
    env: sys::napi_env,
    this: sys::napi_value,
) -> Result<&'a NativeWsConnection> {
    let tag = <NativeWsConnection as TypeTag>::type_tag();
    let mut tagged = false;
    let status = unsafe { sys::napi_check_object_type_tag(env, this, &tag, &mut tagged) };
    if status != sys::Status::napi_ok || !tagged {
        return Err(Error::new(Status::InvalidArg, "not a NativeWsConnection"));
    }
    let mut wrapped = ptr::null_mut();
    check_status!(
        unsafe { sys::napi_unwrap(env, this, &mut wrapped) },
        "not a NativeWsConnection"
    )?;
    Ok(unsafe { &*(wrapped as *const NativeWsConnection) })
}

/// Runs `f(env, this, [data, flags])` and hands its status to JS, or throws its error. A panic
/// (none is expected) is thrown as an error instead of unwinding into Node.
///
/// # Safety
/// Called by Node as a function callback.
unsafe fn call(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    f: fn(sys::napi_env, &NativeWsConnection, sys::napi_value, u32) -> Result<u32>,
) -> sys::napi_value {
    let run = || -> Result<sys::napi_value> {
        let mut argc = 2usize;
        let mut argv = [ptr::null_mut(); 2];
        let mut this = ptr::null_mut();
        check_status!(unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                &mut this,
                ptr::null_mut(),
            )
        })?;
        if argc < 2 {
            return Err(Error::new(Status::InvalidArg, "expected (data, flags)"));
        }
        let conn = unsafe { connection(env, this) }?;
        let flags = unsafe { u32::from_napi_value(env, argv[1]) }?;
        let status = f(env, conn, argv[0], flags)?;
        unsafe { u32::to_napi_value(env, status) }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            unsafe { JsError::from(err).throw_into(env) };
            ptr::null_mut()
        }
        Err(_) => {
            let err = Error::new(Status::GenericFailure, "panic in a WebSocket send");
            unsafe { JsError::from(err).throw_into(env) };
            ptr::null_mut()
        }
    }
}

/// `data` converted as `T` (a Buffer or a string, as the generated method's argument is), sent
/// as `send_buffer` / `send_string` send it.
fn payload_send<T: FromNapiValue + AsRef<[u8]>>(
    env: sys::napi_env,
    conn: &NativeWsConnection,
    data: sys::napi_value,
    flags: u32,
) -> Result<u32> {
    let data = unsafe { T::from_napi_value(env, data) }?;
    Ok(conn.send_payload(data.as_ref(), flags, None))
}

unsafe extern "C" fn send_buffer(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe { call(env, info, payload_send::<BufferSlice>) }
}

unsafe extern "C" fn send_string(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    unsafe { call(env, info, payload_send::<String>) }
}

fn function(env: &Env, name: &str, cb: sys::napi_callback) -> Result<sys::napi_value> {
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
    Ok(f)
}

/// `{ sendBuffer, sendString }`, to be installed on `NativeWsConnection.prototype` by
/// `lib/ws-hub.js`: the same methods without napi-rs's per-call borrow tracking.
#[napi_derive::napi(ts_return_type = "{ sendBuffer: Function, sendString: Function }")]
pub fn fast_send_methods(env: &Env) -> Result<Object<'_>> {
    let mut methods = Object::new(env)?;
    let buffer = function(env, "sendBuffer", Some(send_buffer))?;
    let string = function(env, "sendString", Some(send_string))?;
    unsafe {
        methods.set_named_property("sendBuffer", Unknown::from_raw_unchecked(env.raw(), buffer))?;
        methods.set_named_property("sendString", Unknown::from_raw_unchecked(env.raw(), string))?;
    }
    Ok(methods)
}
