//! Full imports: a subtree search of the base DN with the user filter, one page of the
//! paged-results control (RFC 2696) per call, the server's cookie carried in the cursor.
//! The delta watermark is taken before the first entry is read, so changes made while
//! the import runs are seen by the next delta import.
//!
//! A cookie is only valid on the connection that received it. When the next page lands
//! on another connection (the old one broke, or the host handed the call to another
//! session), the search starts over and skips the entries already returned; entries
//! deleted in between can then shift a few entries past the skip, which the next delta or
//! full import corrects. This is logged when it happens.

use ldap3_proto::proto::LdapSearchScope;

use crate::client::LdapError;
use crate::cursor::ImportCursor;
use crate::delta::watermark_now;
use crate::directory::{search_page, search_request};
use crate::entries::Entry;
use crate::filter;
use crate::session::Context;
use ferry_connector::types::{Error, ImportPage};

/// One page of a full import: at most `page_size` users, from where `cursor` left off.
pub fn full_import(
    context: &Context,
    cursor: Option<&str>,
    page_size: u32,
) -> Result<ImportPage, Error> {
    let size = i64::from(page_size.clamp(1, i32::MAX as u32));
    let cursor = match cursor {
        Some(text) => ImportCursor::decode(text)?,
        None => ImportCursor::new(&[], 0, 0, watermark_now(context)?),
    };
    let cookie = cursor.cookie_bytes()?;
    let config = context.config;
    let request = search_request(
        &config.base_dn.to_string(),
        LdapSearchScope::Subtree,
        config.user_filter.clone(),
        &context.schema.requested(),
    );
    let description = format!(
        "importing users ({} under '{}')",
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
                 started over and skipped the {} users already returned",
            cursor.returned
        ));
    }
    let objects = entries
        .iter()
        .map(|entry| entry.to_object(context))
        .collect::<Result<Vec<_>, _>>()?;
    let returned = cursor.returned + objects.len() as u64;
    Ok(if next.is_empty() {
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
                ImportCursor::new(&next, connection, returned, cursor.watermark.clone()).encode(),
            ),
            watermark: None,
        }
    })
}
