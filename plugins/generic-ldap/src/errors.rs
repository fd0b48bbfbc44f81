//! LDAP failures as the contract's errors, so every failure carries the kind the host
//! acts on (retry, SCIM status) and a message an operator can follow: what the connector
//! was doing, and the server's own result code and diagnostic text. Network failures are
//! the SDK's (`Error::from_net`).

use ldap3_proto::proto::{LdapResult, LdapResultCode};

use ferry_connector::{Error, ErrorKind};

use crate::client::{LdapError, describe_result};

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
    Error::new(
        kind_of(&result.code),
        format!("{context}: {}", describe_result(result)),
    )
}

/// Any failed operation as a contract error.
pub fn from_ldap(context: &str, failure: &LdapError) -> Error {
    match failure {
        LdapError::Net(failure) => Error::from_net(context, failure),
        LdapError::Protocol(why) => Error::unavailable(format!("{context}: {why}")),
        LdapError::Refused(result) => from_result(context, result),
    }
}

#[cfg(test)]
mod tests {
    use ferry_connector::net::NetError;

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
    fn a_broken_stream_or_protocol_is_retryable() {
        assert_eq!(
            from_ldap("reading", &LdapError::Protocol("garbled".into())).kind,
            ErrorKind::Unavailable
        );
        let closed = from_ldap("reading", &LdapError::Net(NetError::Closed));
        assert_eq!(closed.kind, ErrorKind::Unavailable);
        assert_eq!(closed.message, "reading: the server closed the connection");
    }
}
