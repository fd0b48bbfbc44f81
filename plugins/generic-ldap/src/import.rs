//! Full imports: users, then groups when configured, each a subtree search of its base DN
//! with its filter, one page of the paged-results control (RFC 2696) per call, the
//! server's cookie and the object type being read carried in the cursor; the next page
//! is asked for before a page is returned, so the server reads it while the host stores
//! this one (see `directory::search_page`). The delta watermark is taken before the
//! first entry is read, so changes made while the import runs are seen by the next delta
//! import. The session's index of DNs is dropped as the import begins, so the import
//! translates references (members, managers) against the directory as it is.
//!
//! A cookie is only valid on the connection that received it. When the next page lands
//! on another connection (the old one broke, or the host handed the call to another
//! session), the search starts over and skips the entries already returned; entries
//! deleted in between can then shift a few entries past the skip, which the next delta or
//! full import corrects. This is logged when it happens.

use ldap3_proto::proto::LdapSearchScope;

use crate::client::LdapError;
use crate::cursor::{ImportCursor, Phase};
use crate::delta::watermark_now;
use crate::directory::{search_page, search_request};
use crate::entries::Entry;
use crate::filter;
use crate::session::Context;
use ferry_connector::types::{Error, ImportPage};

/// One page of a full import: at most `page_size` objects, from where `cursor` left off.
pub fn full_import(
    context: &Context,
    cursor: Option<&str>,
    page_size: u32,
) -> Result<ImportPage, Error> {
    let size = i64::from(page_size.clamp(1, i32::MAX as u32));
    let cursor = match cursor {
        Some(text) => ImportCursor::decode(text)?,
        None => {
            context.references.reset();
            ImportCursor::new(Phase::Users, &[], 0, 0, watermark_now(context)?)
        }
    };
    let kind = match cursor.phase {
        Phase::Users => context.user_kind(),
        Phase::Groups => context.group_kind().ok_or_else(|| {
            Error::invalid_input(
                "the cursor is for groups, which this configuration does not have; start a \
                 full import",
            )
        })?,
    };
    let cookie = cursor.cookie_bytes()?;
    let request = search_request(
        &kind.scope.base_dn.to_string(),
        LdapSearchScope::Subtree,
        kind.scope.filter.clone(),
        &kind.schema.requested(),
    );
    let description = format!(
        "importing {}s ({} under '{}')",
        kind.scope.object_type,
        filter::render(&request.filter),
        request.base
    );
    let (entries, next, connection, restarted) =
        context.directory.read(&description, |client, connection| {
            if !cookie.is_empty() && connection == cursor.connection {
                match search_page(client, &request, size, cookie.clone()) {
                    // The server no longer knows the cookie: start over below.
                    Err(LdapError::Refused(_)) => {}
                    other => {
                        return other.map(|(entries, next)| (entries, next, connection, false));
                    }
                }
            }
            let mut skip = usize::try_from(cursor.returned).unwrap_or(usize::MAX);
            let mut cookie = Vec::new();
            loop {
                let (entries, next) = search_page(client, &request, size, cookie)?;
                if skip < entries.len() || next.is_empty() {
                    let kept: Vec<Entry> = entries.into_iter().skip(skip).collect();
                    return Ok((kept, next, connection, cursor.returned > 0));
                }
                skip -= entries.len();
                cookie = next;
            }
        })?;
    if restarted {
        context.directory.log().warn(&format!(
            "the full import could not resume its paged search on this connection; it \
                 started over and skipped the {} {}s already returned",
            cursor.returned, kind.scope.object_type
        ));
    }
    let objects = entries
        .into_iter()
        .map(|entry| entry.into_object(context, kind))
        .collect::<Result<Vec<_>, _>>()?;
    let returned = cursor.returned + objects.len() as u64;
    Ok(
        if next.is_empty() && cursor.phase == Phase::Users && context.group_kind().is_some() {
            ImportPage {
                objects,
                next_cursor: Some(
                    ImportCursor::new(Phase::Groups, &[], 0, 0, cursor.watermark.clone()).encode(),
                ),
                watermark: None,
            }
        } else if next.is_empty() {
            ImportPage {
                objects,
                next_cursor: None,
                watermark: cursor
                    .watermark
                    .as_ref()
                    .map(|watermark| watermark.encode()),
            }
        } else {
            ImportPage {
                objects,
                next_cursor: Some(
                    ImportCursor::new(
                        cursor.phase,
                        &next,
                        connection,
                        returned,
                        cursor.watermark.clone(),
                    )
                    .encode(),
                ),
                watermark: None,
            }
        },
    )
}
