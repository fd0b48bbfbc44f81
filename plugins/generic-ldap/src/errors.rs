//! The contract's errors, built in one place so every failure carries the kind the host
//! acts on (retry, SCIM status) and a message an operator can follow: what the connector
//! was doing, and the server's own result code and diagnostic text.

use ldap3_proto::proto::{LdapResult, LdapResultCode};

use crate::client::{LdapError, describe_result};
use crate::ferry::connector::net::NetError;
use crate::ferry::connector::types::{Error, ErrorKind};

/// An error of `kind` about no attribute in particular.
pub fn error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        message: message.into(),
        attribute: None,
    }
}

/// A bad setting or request: permanent, SCIM 400.
pub fn invalid_input(message: impl Into<String>) -> Error {
    error(ErrorKind::InvalidInput, message)
}

/// A request that names or writes an attribute it may not: permanent, SCIM 400, with the
/// attribute named so the IdP's provisioning log points at the mapping to fix.
pub fn invalid_attribute(attribute: &str, message: impl Into<String>) -> Error {
    Error {
        attribute: Some(attribute.to_owned()),
        ..invalid_input(message)
    }
}

/// An answer from the server the connector cannot make sense of.
pub fn internal(message: impl Into<String>) -> Error {
    error(ErrorKind::Internal, message)
}

/// What the configuration or this connector cannot do at all.
pub fn unsupported(message: impl Into<String>) -> Error {
    error(ErrorKind::Unsupported, message)
}

/// The object the host named is not in the directory (or not in the configured scope).
pub fn not_found(message: impl Into<String>) -> Error {
    error(ErrorKind::NotFound, message)
}

/// The kind the host should act on for an LDAP result code (RFC 4511 appendix A): the
/// caller's data for schema and naming refusals, retry for a busy or unavailable server,
/// and internal for what no retry or different input would fix.
pub fn kind_of(code: &LdapResultCode) -> ErrorKind {
    use LdapResultCode as C;
    match code {
        C::NoSuchObject => ErrorKind::NotFound,
        C::EntryAlreadyExists => ErrorKind::AlreadyExists,
        C::InsufficentAccessRights
        | C::InvalidCredentials
        | C::InappropriateAuthentication
        | C::StrongerAuthRequired
        | C::ConfidentialityRequired => ErrorKind::PermissionDenied,
        C::Busy
        | C::Unavailable
        | C::UnwillingToPerform
        | C::TimeLimitExceeded
        | C::AdminLimitExceeded => ErrorKind::Unavailable,
        C::ConstraintViolation
        | C::InvalidAttributeSyntax
        | C::ObjectClassViolation
        | C::NamingViolation
        | C::UndefinedAttributeType
        | C::NoSuchAttribute
        | C::AttributeOrValueExists
        | C::InvalidDNSyntax
        | C::NotALlowedOnRDN
        | C::NotAllowedOnNonLeaf
        | C::ObjectClassModsProhibited => ErrorKind::InvalidInput,
        _ => ErrorKind::Internal,
    }
}

/// A refused operation as a contract error: `context` says what the connector was doing,
/// the message carries the server's result and diagnostic text.
pub fn from_result(context: &str, result: &LdapResult) -> Error {
    error(
        kind_of(&result.code),
        format!("{context}: {}", describe_result(result)),
    )
}

/// A network failure as a contract error. A refusal by the app's allow-list needs the
/// operator, not a retry; everything else may pass.
pub fn from_net(context: &str, failure: &NetError) -> Error {
    let (kind, reason) = match failure {
        NetError::Denied(why) => (
            ErrorKind::PermissionDenied,
            format!("the app's network allow-list refused it: {why}"),
        ),
        NetError::Resolve(why) => (ErrorKind::Unavailable, format!("name not resolved: {why}")),
        NetError::Connect(why) => (ErrorKind::Unavailable, format!("cannot connect: {why}")),
        NetError::Tls(why) => (ErrorKind::Unavailable, format!("TLS failed: {why}")),
        NetError::Timeout => (ErrorKind::Unavailable, "timed out".to_owned()),
        NetError::Closed => (
            ErrorKind::Unavailable,
            "the server closed the connection".to_owned(),
        ),
        NetError::Limit => (
            ErrorKind::Unavailable,
            "too many open connections for this app".to_owned(),
        ),
        NetError::Other(why) => (ErrorKind::Unavailable, why.clone()),
    };
    error(kind, format!("{context}: {reason}"))
}

/// Any failed operation as a contract error.
pub fn from_ldap(context: &str, failure: &LdapError) -> Error {
    match failure {
        LdapError::Net(failure) => from_net(context, failure),
        LdapError::Protocol(why) => error(ErrorKind::Unavailable, format!("{context}: {why}")),
        LdapError::Refused(result) => from_result(context, result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: LdapResultCode, message: &str) -> LdapResult {
        LdapResult {
            code,
            matcheddn: String::new(),
            message: message.to_owned(),
            referral: Vec::new(),
        }
    }

    #[test]
    fn maps_result_codes_to_the_kind_the_host_acts_on() {
        use ErrorKind as E;
        use LdapResultCode as C;
        let expected = [
            (C::NoSuchObject, E::NotFound),
            (C::EntryAlreadyExists, E::AlreadyExists),
            (C::InsufficentAccessRights, E::PermissionDenied),
            (C::InvalidCredentials, E::PermissionDenied),
            (C::ConfidentialityRequired, E::PermissionDenied),
            (C::Busy, E::Unavailable),
            (C::Unavailable, E::Unavailable),
            (C::UnwillingToPerform, E::Unavailable),
            (C::TimeLimitExceeded, E::Unavailable),
            (C::AdminLimitExceeded, E::Unavailable),
            (C::ConstraintViolation, E::InvalidInput),
            (C::InvalidAttributeSyntax, E::InvalidInput),
            (C::ObjectClassViolation, E::InvalidInput),
            (C::NamingViolation, E::InvalidInput),
            (C::UndefinedAttributeType, E::InvalidInput),
            (C::AttributeOrValueExists, E::InvalidInput),
            (C::NoSuchAttribute, E::InvalidInput),
            (C::InvalidDNSyntax, E::InvalidInput),
            (C::OperationsError, E::Internal),
            (C::ProtocolError, E::Internal),
            (C::Other, E::Internal),
            (C::SizeLimitExceeded, E::Internal),
        ];
        for (code, kind) in expected {
            assert_eq!(kind_of(&code), kind, "{code:?}");
        }
    }

    #[test]
    fn the_message_carries_the_context_code_and_diagnostic() {
        let failure = from_result(
            "adding 'uid=a,dc=example,dc=org'",
            &result(LdapResultCode::EntryAlreadyExists, "Already exists"),
        );
        assert_eq!(failure.kind, ErrorKind::AlreadyExists);
        assert_eq!(
            failure.message,
            "adding 'uid=a,dc=example,dc=org': EntryAlreadyExists (68): Already exists"
        );
        let bare = from_result("deleting", &result(LdapResultCode::NoSuchObject, ""));
        assert_eq!(bare.message, "deleting: NoSuchObject (32)");
    }

    #[test]
    fn network_failures_are_retryable_except_an_allow_list_refusal() {
        let denied = from_net(
            "connecting",
            &NetError::Denied("ldap.example.org:636".into()),
        );
        assert_eq!(denied.kind, ErrorKind::PermissionDenied);
        assert!(denied.message.contains("allow-list"));
        for failure in [
            NetError::Resolve("x".into()),
            NetError::Connect("x".into()),
            NetError::Tls("unknown CA".into()),
            NetError::Timeout,
            NetError::Closed,
            NetError::Limit,
            NetError::Other("x".into()),
        ] {
            assert_eq!(
                from_net("c", &failure).kind,
                ErrorKind::Unavailable,
                "{failure:?}"
            );
        }
        assert_eq!(
            from_ldap("reading", &LdapError::Protocol("garbled".into())).kind,
            ErrorKind::Unavailable
        );
    }
}
