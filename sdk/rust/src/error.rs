//! Constructors for the contract's `error`, one per kind, so that every failure carries
//! the kind the host acts on (retry, SCIM status) and reads as what it is at the place it
//! is made: `Error::not_found(format!("no user '{anchor}'"))`.

use crate::types::{Error, ErrorKind};

impl Error {
    /// An error of `kind` about no attribute in particular.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            attribute: None,
        }
    }

    /// The request's data or a setting is not acceptable: permanent, SCIM 400.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// The object does not exist: permanent, SCIM 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An object with the same identity or unique value exists: permanent, SCIM 409.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }

    /// The target refused for lack of rights: permanent, SCIM 403.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PermissionDenied, message)
    }

    /// The target is unreachable, busy or timed out: the host retries later (SCIM 503).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The connector or its configuration cannot do this at all: permanent.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// A bug or an answer from the target the connector cannot make sense of: SCIM 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The same error, about `name`: the IdP's provisioning log then points at the
    /// attribute mapping to fix.
    #[must_use]
    pub fn attribute(self, name: impl Into<String>) -> Self {
        Self {
            attribute: Some(name.into()),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_constructor_makes_its_kind() {
        let made = [
            (Error::invalid_input("m"), ErrorKind::InvalidInput),
            (Error::not_found("m"), ErrorKind::NotFound),
            (Error::already_exists("m"), ErrorKind::AlreadyExists),
            (Error::permission_denied("m"), ErrorKind::PermissionDenied),
            (Error::unavailable("m"), ErrorKind::Unavailable),
            (Error::unsupported("m"), ErrorKind::Unsupported),
            (Error::internal("m"), ErrorKind::Internal),
        ];
        for (error, kind) in made {
            assert_eq!(error.kind, kind);
            assert_eq!(error.message, "m");
            assert_eq!(error.attribute, None);
        }
    }

    #[test]
    fn names_the_attribute() {
        let error = Error::invalid_input("too long").attribute("mail");
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert_eq!(error.attribute.as_deref(), Some("mail"));
    }
}
