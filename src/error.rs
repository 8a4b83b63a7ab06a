//! One error type for the addon, mapped to JS errors that carry a stable `code`.

use napi::{Error, Status};

/// Errors the addon reports to JavaScript. Each maps to a stable `code` string.
#[derive(Debug)]
#[non_exhaustive]
pub enum FerroError {
    /// An option or argument is outside what is allowed: becomes a `RangeError`-like
    /// `ERR_OUT_OF_RANGE` error.
    OutOfRange(String),
    /// An argument has the wrong type or shape: `ERR_INVALID_ARG_TYPE`.
    InvalidArg(String),
    /// The object was used after `close()`: `ERR_CLOSED`.
    Closed(&'static str),
}

impl FerroError {
    /// The stable error code a JS caller can match on.
    pub fn code(&self) -> &'static str {
        match self {
            FerroError::OutOfRange(_) => "ERR_OUT_OF_RANGE",
            FerroError::InvalidArg(_) => "ERR_INVALID_ARG_TYPE",
            FerroError::Closed(_) => "ERR_CLOSED",
        }
    }
}

impl std::fmt::Display for FerroError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FerroError::OutOfRange(m) | FerroError::InvalidArg(m) => f.write_str(m),
            FerroError::Closed(what) => write!(f, "{what} is closed"),
        }
    }
}

impl std::error::Error for FerroError {}

impl From<FerroError> for Error {
    fn from(e: FerroError) -> Self {
        // napi-rs sets `err.code` from the status string: `GenericFailure` with a custom status
        // string is how a stable code reaches JS.
        Error::new(Status::GenericFailure, format!("{}: {}", e.code(), e))
    }
}

impl From<FerroError> for Error<String> {
    fn from(e: FerroError) -> Self {
        Error::new(e.code().to_string(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            FerroError::OutOfRange("x".into()).code(),
            "ERR_OUT_OF_RANGE"
        );
        assert_eq!(
            FerroError::InvalidArg("x".into()).code(),
            "ERR_INVALID_ARG_TYPE"
        );
        assert_eq!(
            FerroError::Closed("EventBuffer").to_string(),
            "EventBuffer is closed"
        );
    }

    #[test]
    fn becomes_a_napi_error_with_the_code_as_status() {
        let e: Error<String> = FerroError::Closed("EventBuffer").into();
        assert_eq!(e.status, "ERR_CLOSED");
        assert_eq!(e.reason, "EventBuffer is closed");
    }
}
