//! Delta imports, and the watermark a full import starts them from.
//!
//! * `accesslog`: the successful writes logged after the watermark's `reqStart`, oldest
//!   first (sorted here: the server returns them in no promised order). Each changed entry
//!   is read again, by `entryUUID` when the log has `reqEntryUUID` (OpenLDAP 2.5+), else by
//!   its DN, and becomes an upsert of its current state; a delete becomes a delete of its
//!   anchor; a rename is an upsert of the entry at its new DN (the entryUUID anchor does
//!   not change). A changed entry is a user when it is one (under the base DN, matching
//!   the user filter), else a group when groups are configured and it is one: a change
//!   of a group's members made in the directory comes back as the group read again, with
//!   all its members (groups among them when groups nest). Writes to entries that are neither are skipped; an entry that was
//!   under a type's base and is no longer of any type (moved out, filter no longer true)
//!   is reported deleted, as is a deleted entry, for each type whose base held it (the
//!   log does not say which type it was; a delete of an anchor the host does not hold
//!   for that type changes nothing).
//!
//!   `reqStart` is when the write began, and the log entry is only written when it ends,
//!   so a slow write can appear in the log after a quicker one that began later. The
//!   watermark therefore keeps, beside the newest `reqStart` handled, every `reqStart`
//!   handled in the `LAG_SECONDS` before it; each page reads from that far back, leaves
//!   out what the watermark lists and handles the rest, late arrivals included. `reqStart`
//!   is the log entry's RDN, so it is unique: nothing is handled twice or looped on. The
//!   search bound is a whole second because OpenLDAP 2.5 compares fractional
//!   GeneralizedTime assertions wrongly (`reqStart<=X` is false for the entry at X when
//!   X's fraction ends in 0), and which entries are after the watermark is decided here.
//!
//!   The handled changes are left out by the server (`(!(reqStart=…))` for each), not
//!   after reading them: the bind account may read only so many entries per search (500
//!   by default in OpenLDAP, paged or not, for any bind but the log database's root DN),
//!   and under a burst, or about 100 writes a second, the look-back alone holds more. So
//!   every entry the server sends is one still to handle, and a search the limit cuts
//!   short still moves on: its entries are handled, the page says there is `more`, and
//!   the next page reads on from `LAG_SECONDS` before the newest of them, leaving them
//!   out in turn. That skips nothing. The server's
//!   `mdb` sends entries in the order it stored them, which is the order they were logged,
//!   so a cut-short answer holds the changes logged first; each one left out was logged
//!   after all of them, so (as a write is logged within `LAG_SECONDS` of its `reqStart`)
//!   it began less than `LAG_SECONDS` before the newest `reqStart` sent, within the next
//!   page's look-back. The price is a filter and a watermark that grow with the writes of
//!   the last `LAG_SECONDS`: at 1,000 writes a second (more than slapd commits on a
//!   small machine), 5,000 values, about 200 KB, far below the request size slapd accepts
//!   from a bound client (`sockbuf_max_incoming_auth`, 16 MiB by default).
//! * `modify-timestamp`: the users and groups whose `modifyTimestamp` is at or after the
//!   watermark.
//!   Timestamps have one-second resolution, so the watermark also lists the users already
//!   returned at that second. Deletes leave no timestamp: this source cannot see them.
//!
//! The watermark a full import hands over is the newest `reqStart` (or
//! `modifyTimestamp`) on the server when it begins. It is found with searches for entries
//! newer than the connector's clock minus ten seconds, five minutes, an hour, a day, a
//! month, then without bound, stopping at the first that finds any: the answer is the
//! server's own newest value whatever the clocks say, and usually costs one small search.
//! A window holding more entries than the bind account may read at once is narrowed down
//! from the entries the server sent before refusing; at worst the watermark is one of
//! those, a little short of the newest, which is still correct (see `narrowed`).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ldap3_proto::proto::{LdapFilter, LdapSearchScope};

use crate::accesslog::{self, ChangeKind, LoggedChange};
use crate::config::{Anchor, DeltaSource};
use crate::cursor::Watermark;
use crate::directory::{present, search_request};
use crate::dn::Dn;
use crate::entries::{Entry, canonical_dn, find, find_at};
use crate::filter;
use crate::session::{Context, Kind};
use ferry_connector::types::{Datetime, DeltaEntry, DeltaPage, Error, Object, ObjectRef};

/// The attribute modify-timestamp deltas follow.
const MODIFY_TIMESTAMP: &str = "modifyTimestamp";

/// The look-back windows for finding the newest value, in seconds; the last is unbounded.
/// They start small so that the first non-empty window usually holds few entries; one
/// holding more than the server's size limit for the bind account (500 by default in
/// OpenLDAP) is narrowed down from the entries the server sent before it stopped.
const WINDOWS: [Option<i64>; 6] = [
    Some(10),
    Some(300),
    Some(3_600),
    Some(86_400),
    Some(31 * 86_400),
    None,
];

/// How long a write may take between its `reqStart` and its log entry and still be seen:
/// the accesslog is read again this far behind the watermark.
pub(crate) const LAG_SECONDS: i64 = 5;

/// A logged time: as the server wrote it, and parsed, for ordering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    seconds: i64,
    nanoseconds: u32,
    text: String,
}

impl Stamp {
    fn parse(text: &str) -> Option<Self> {
        let at = Datetime::parse_generalized_time(text)?;
        Some(Self {
            seconds: at.seconds,
            nanoseconds: at.nanoseconds,
            text: text.to_owned(),
        })
    }
}

/// The watermark for the delta source configured, as it stands now; none without one.
pub fn watermark_now(context: &Context) -> Result<Option<Watermark>, Error> {
    Ok(match &context.config.delta {
        DeltaSource::None => None,
        DeltaSource::Accesslog(log) => {
            let logged = newest(
                context,
                &log.to_string(),
                LdapSearchScope::OneLevel,
                None,
                "reqStart",
            )?;
            Some(accesslog_watermark(None, Vec::new(), &logged))
        }
        DeltaSource::ModifyTimestamp => {
            let mut stamps = Vec::new();
            for kind in context.kinds() {
                stamps.extend(
                    newest(
                        context,
                        &kind.scope.base_dn.to_string(),
                        LdapSearchScope::Subtree,
                        Some(&kind.scope.filter),
                        MODIFY_TIMESTAMP,
                    )?
                    .pop(),
                );
            }
            Some(Watermark::ModifyTimestamp {
                since: stamps.into_iter().max().map(|stamp| stamp.text),
                seen: Vec::new(),
            })
        }
    })
}

/// The values of the time attribute `attribute` under `base` in the shortest look-back
/// window that has any, oldest first; empty when no entry has one. On a busy directory
/// they may be only some of the window's newest values (see [`TimeSearch::narrowed`]).
fn newest(
    context: &Context,
    base: &str,
    scope: LdapSearchScope,
    within: Option<&LdapFilter>,
    attribute: &str,
) -> Result<Vec<Stamp>, Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    let search = TimeSearch {
        context,
        base,
        scope,
        within,
        attribute,
    };
    for window in WINDOWS {
        let bound = window.map(|seconds| whole_second(now - seconds));
        match search.since(bound)? {
            Ok(found) if found.is_empty() => {}
            Ok(found) => return Ok(found),
            Err((some, error)) => return search.narrowed(some, error),
        }
    }
    Ok(Vec::new())
}

/// The values of a time attribute a search found, oldest first; for a search the size
/// limit cut short, those of the entries the server sent before it stopped, and its
/// refusal.
type Stamps = Result<Vec<Stamp>, (Vec<Stamp>, Error)>;

/// The search for the values of a time attribute that [`newest`] repeats with other
/// bounds.
struct TimeSearch<'a> {
    context: &'a Context<'a>,
    base: &'a str,
    scope: LdapSearchScope,
    within: Option<&'a LdapFilter>,
    attribute: &'a str,
}

impl TimeSearch<'_> {
    /// The values at or after the time `since` (all without it), oldest first; when
    /// there are more than the bind account's size limit, the values of the entries the
    /// server sent before it stopped, and its refusal.
    fn since(&self, since: Option<String>) -> Result<Stamps, Error> {
        let attribute = self.attribute;
        let bound = match since {
            Some(since) => LdapFilter::GreaterOrEqual(attribute.to_owned(), since),
            None => present(attribute),
        };
        let condition = match self.within {
            Some(filter) => filter::and(filter, bound),
            None => bound,
        };
        let request = search_request(self.base, self.scope.clone(), condition, &[attribute]);
        let description = format!(
            "finding the newest {attribute} ({} under '{}')",
            filter::render(&request.filter),
            self.base
        );
        let stamps = |entries: Vec<Entry>| {
            let mut found: Vec<Stamp> = entries
                .iter()
                .filter_map(|entry| Stamp::parse(entry.text(attribute)?))
                .collect();
            found.sort();
            found
        };
        Ok(
            match self
                .context
                .directory
                .search_all_or_some(&description, &request)?
            {
                Ok(entries) => Ok(stamps(entries)),
                Err(truncated) => Err((stamps(truncated.entries), truncated.error)),
            },
        )
    }

    /// The newest values when a window holds more entries than the size limit lets the
    /// bind account read (OpenLDAP's default is 500, paged or not, for any bind but the
    /// database's root DN), given `some` of them, oldest first, as the server sent them
    /// before it refused.
    ///
    /// Any value the server holds is a correct watermark, for it is no later than the
    /// newest change, and every change made after the watermark is taken comes later: a
    /// watermark short of the newest only makes the first delta read again changes the
    /// full import already holds, which their upserts apply harmlessly. (The values
    /// returned are listed as handled: they are changes the import reads after they were
    /// made.) So the newest value sent will do; it is only worth getting closer to the
    /// newest, to spare the first delta that reading again. The search is repeated from
    /// the newest value sent, exactly (`>=` compares fractions correctly; only `<=` does
    /// not), as long as that moves on: it rises each time, so this ends. The server's
    /// `mdb` sends entries in the order it stored them, so each search skips about as
    /// many entries as the limit, and the last one, holding the rest, succeeds.
    fn narrowed(&self, mut some: Vec<Stamp>, error: Error) -> Result<Vec<Stamp>, Error> {
        loop {
            let Some(newest) = some.last().cloned() else {
                // Nothing usable was sent: the refusal stands.
                return Err(error);
            };
            match self.since(Some(newest.text.clone()))? {
                Ok(found) if found.is_empty() => return Ok(some),
                Ok(found) => return Ok(found),
                Err((more, _)) => match more.last() {
                    Some(stamp) if *stamp > newest => some = more,
                    Some(_) => return Ok(more),
                    None => return Ok(some),
                },
            }
        }
    }
}

/// `(attribute>=T)` for the whole second `seconds`.
fn at_or_after(attribute: &str, seconds: i64) -> LdapFilter {
    LdapFilter::GreaterOrEqual(attribute.to_owned(), whole_second(seconds))
}

/// The whole second `seconds` as GeneralizedTime: no fraction, which OpenLDAP compares
/// correctly whatever the operator.
fn whole_second(seconds: i64) -> String {
    Datetime {
        seconds,
        nanoseconds: 0,
    }
    .to_generalized_time()
}

/// The watermark after handling `handled` from `after` and `seen`: the newest `reqStart`
/// handled, and every one handled within `LAG_SECONDS` of it.
fn accesslog_watermark(after: Option<String>, seen: Vec<String>, handled: &[Stamp]) -> Watermark {
    let newest = after
        .as_deref()
        .and_then(Stamp::parse)
        .into_iter()
        .chain(handled.iter().cloned())
        .max();
    let Some(newest) = newest else {
        return Watermark::Accesslog { after, seen };
    };
    let mut kept: Vec<String> = Vec::new();
    for text in seen
        .into_iter()
        .chain(handled.iter().map(|stamp| stamp.text.clone()))
    {
        let recent =
            Stamp::parse(&text).is_some_and(|stamp| stamp.seconds >= newest.seconds - LAG_SECONDS);
        if recent && !kept.contains(&text) {
            kept.push(text);
        }
    }
    Watermark::Accesslog {
        after: Some(newest.text),
        seen: kept,
    }
}

/// The earliest whole second a page must read from, for a watermark at `after`.
fn accesslog_bound(after: Option<&str>) -> Option<i64> {
    Some(Stamp::parse(after?)?.seconds - LAG_SECONDS)
}

/// Whether a logged change still has to be handled: at or after the bound, and not
/// already handled.
fn unhandled(change: &LoggedChange, bound: Option<i64>, seen: &[String]) -> bool {
    bound.is_none_or(|bound| change.at.seconds >= bound) && !seen.contains(&change.start)
}

/// The accesslog entries a page reads: the successful writes from the whole second
/// `bound` on (all without it), but for those whose `reqStart` is in `handled`. Leaving
/// out what was handled keeps a busy look-back from filling the answer with changes that
/// are only skipped: the size limit then counts only changes still to handle.
fn accesslog_filter(bound: Option<i64>, handled: &[String]) -> LdapFilter {
    let mut conditions = vec![
        LdapFilter::Equality("objectClass".to_owned(), "auditWriteObject".to_owned()),
        LdapFilter::Equality("reqResult".to_owned(), "0".to_owned()),
    ];
    conditions.extend(bound.map(|bound| at_or_after("reqStart", bound)));
    conditions.extend(handled.iter().map(|start| {
        LdapFilter::Not(Box::new(LdapFilter::Equality(
            "reqStart".to_owned(),
            start.clone(),
        )))
    }));
    LdapFilter::And(conditions)
}

/// One page of changes since `watermark`.
pub fn delta_import(
    context: &Context,
    watermark: &str,
    page_size: u32,
) -> Result<DeltaPage, Error> {
    let page_size = page_size.max(1) as usize;
    match (&context.config.delta, Watermark::decode(watermark)?) {
        (DeltaSource::None, _) => Err(Error::unsupported(
            "delta = \"none\": this app has no source of changes; run full imports",
        )),
        (DeltaSource::Accesslog(log), Watermark::Accesslog { after, seen }) => {
            accesslog_page(context, log, after, seen, page_size)
        }
        (DeltaSource::ModifyTimestamp, Watermark::ModifyTimestamp { since, seen }) => {
            timestamp_page(context, since, seen, page_size)
        }
        _ => Err(Error::invalid_input(
            "the watermark is for another delta source than the one configured; start a full \
             import",
        )),
    }
}

fn accesslog_page(
    context: &Context,
    log: &Dn,
    after: Option<String>,
    seen: Vec<String>,
    page_size: usize,
) -> Result<DeltaPage, Error> {
    let bound = accesslog_bound(after.as_deref());
    let since = accesslog_filter(bound, &[]);
    let request = search_request(
        &log.to_string(),
        LdapSearchScope::OneLevel,
        accesslog_filter(bound, &seen),
        &accesslog::ATTRIBUTES,
    );
    // The exclusions are left out of the description: there may be thousands.
    let description = format!(
        "reading the accesslog ({} under '{}', but for the {} changes already handled)",
        filter::render(&since),
        request.base,
        seen.len()
    );
    let (entries, refusal) = match context
        .directory
        .search_all_or_some(&description, &request)?
    {
        Ok(entries) => (entries, None),
        Err(truncated) => (truncated.entries, Some(truncated.error)),
    };
    let mut changes = Vec::new();
    for entry in entries {
        match accesslog::interpret(&entry) {
            // Checked here too: the server's exclusions let a page get past the changes
            // already handled; this keeps one the server sent anyway from being handled
            // twice.
            Ok(change) if unhandled(&change, bound, &seen) => changes.push(change),
            Ok(_) => {}
            Err(why) => context
                .directory
                .log()
                .warn(&format!("accesslog entry '{}' skipped: {why}", entry.dn)),
        }
    }
    // A search the size limit cut short returned the changes logged first (see the
    // module's comment): they are this page's, and the rest are read by the next. One that
    // returned nothing left to handle would only be repeated by the next page: its
    // refusal stands rather than a `more` that never ends.
    let cut_short = match refusal {
        Some(error) if changes.is_empty() => return Err(error),
        refusal => refusal.is_some(),
    };
    changes.sort_by(|a, b| {
        (a.at.seconds, a.at.nanoseconds, &a.start).cmp(&(b.at.seconds, b.at.nanoseconds, &b.start))
    });
    let more = cut_short || changes.len() > page_size;
    changes.truncate(page_size);
    let mut reader = Reader {
        context,
        read: HashMap::new(),
    };
    let mut entries = Outcome::default();
    for change in &changes {
        reader.apply(change, &mut entries)?;
    }
    let handled: Vec<Stamp> = changes
        .iter()
        .filter_map(|change| Stamp::parse(&change.start))
        .collect();
    Ok(DeltaPage {
        entries: entries.0,
        watermark: accesslog_watermark(after, seen, &handled).encode(),
        more,
    })
}

/// The delta entries of a page, one per object: a later change of the same object
/// replaces an earlier one, because the host applies a page's upserts before its deletes.
#[derive(Default)]
struct Outcome(Vec<DeltaEntry>);

impl Outcome {
    fn push(&mut self, entry: DeltaEntry) {
        let key = key_of(&entry);
        self.0.retain(|earlier| key_of(earlier) != key);
        self.0.push(entry);
    }

    /// Deletes of `anchor` as each of `kinds`.
    fn delete(&mut self, kinds: &[Kind], anchor: &str) {
        for kind in kinds {
            self.push(DeltaEntry::Delete(ObjectRef {
                object_type: kind.scope.object_type.to_owned(),
                anchor: anchor.to_owned(),
            }));
        }
    }
}

/// The object a delta entry is about: its type and anchor.
fn key_of(entry: &DeltaEntry) -> (String, String) {
    match entry {
        DeltaEntry::Upsert(object) => (object.object_type.clone(), object.anchor.clone()),
        DeltaEntry::Delete(target) => (target.object_type.clone(), target.anchor.clone()),
    }
}

/// Turns logged changes into delta entries, reading each changed user once per page.
struct Reader<'a> {
    context: &'a Context<'a>,
    read: HashMap<String, Option<Object>>,
}

impl Reader<'_> {
    fn apply(&mut self, change: &LoggedChange, outcome: &mut Outcome) -> Result<(), Error> {
        let context = self.context;
        let config = context.config;
        // The types whose base held the entry before this change.
        let was_in: Vec<Kind> = Dn::parse(&change.dn).map_or_else(
            |_| Vec::new(),
            |dn| {
                context
                    .kinds()
                    .into_iter()
                    .filter(|kind| dn.is_within(&kind.scope.base_dn))
                    .collect()
            },
        );
        // The anchor the entry had before this change, when it can be known.
        let old_anchor = match config.anchor {
            Anchor::EntryUuid => change.uuid.clone(),
            Anchor::Dn => canonical_dn(&change.dn).ok(),
        };
        if matches!(change.kind, ChangeKind::Delete | ChangeKind::Rename) {
            context.references.forget(&change.dn);
        }
        if change.kind == ChangeKind::Delete {
            match old_anchor {
                Some(anchor) => outcome.delete(&was_in, &anchor),
                None if !was_in.is_empty() => context.directory.log().warn(&format!(
                    "the delete of '{}' at {} is not in the accesslog with its \
                         entryUUID; the host keeps the object until the next full import",
                    change.dn, change.start
                )),
                None => {}
            }
            return Ok(());
        }
        if config.anchor == Anchor::Dn && change.kind == ChangeKind::Rename {
            // Under DN anchors a rename is a new identity: the old one is gone.
            if let Some(anchor) = &old_anchor {
                outcome.delete(&was_in, anchor);
            }
        }
        match self.current(change)? {
            Some(object) => {
                if let (Ok(kind), Some(dn)) = (
                    context.kind(&object.object_type),
                    object
                        .attribute(crate::schema::DN)
                        .and_then(|dn| dn.first_string()),
                ) {
                    context.references.note(context, kind, dn, &object.anchor);
                }
                outcome.push(DeltaEntry::Upsert(object));
            }
            None => {
                // Not (or no longer) a user or group: if it was under a type's base before
                // this change, it may have left the scope.
                if change.kind != ChangeKind::Add
                    && let Some(anchor) = old_anchor
                {
                    outcome.delete(&was_in, &anchor);
                }
            }
        }
        Ok(())
    }

    /// The changed entry's current state as a user or group, if it is one.
    fn current(&mut self, change: &LoggedChange) -> Result<Option<Object>, Error> {
        let context = self.context;
        let key = match (&change.uuid, context.config.anchor) {
            (Some(uuid), Anchor::EntryUuid) => uuid.clone(),
            _ => canonical_dn(change.current_dn())?,
        };
        if let Some(known) = self.read.get(&key) {
            return Ok(known.clone());
        }
        let mut object = None;
        for kind in context.kinds() {
            // The read asks for the lock attribute too, so a modify that only locked or
            // unlocked the user comes back with its new `active`.
            let entry = match (&change.uuid, context.config.anchor) {
                (Some(uuid), Anchor::EntryUuid) => {
                    find(context, kind, uuid, &kind.schema.requested())?
                }
                // By DN: under DN anchors, or without reqEntryUUID (OpenLDAP before 2.5).
                _ => find_at(context, kind, &key, &kind.schema.requested())?,
            };
            if let Some(entry) = entry {
                object = Some(entry.into_object(context, kind)?);
                break;
            }
        }
        self.read.insert(key, object.clone());
        Ok(object)
    }
}

fn timestamp_page(
    context: &Context,
    since: Option<String>,
    seen: Vec<String>,
    page_size: usize,
) -> Result<DeltaPage, Error> {
    let mut changed = Vec::new();
    for kind in context.kinds() {
        let bound = match &since {
            Some(since) => LdapFilter::GreaterOrEqual(MODIFY_TIMESTAMP.to_owned(), since.clone()),
            None => present(MODIFY_TIMESTAMP),
        };
        let mut attributes = kind.schema.requested();
        attributes.push(MODIFY_TIMESTAMP);
        let request = search_request(
            &kind.scope.base_dn.to_string(),
            LdapSearchScope::Subtree,
            filter::and(&kind.scope.filter, bound),
            &attributes,
        );
        let description = format!(
            "reading changed {}s ({} under '{}')",
            kind.scope.object_type,
            filter::render(&request.filter),
            request.base
        );
        for entry in context.directory.search_all(&description, &request)? {
            let Some(stamp) = entry.text(MODIFY_TIMESTAMP).map(str::to_owned) else {
                continue;
            };
            let Some(at) = Datetime::parse_generalized_time(&stamp) else {
                continue;
            };
            let object = entry.into_object(context, kind)?;
            if since.as_deref() == Some(stamp.as_str()) && seen.contains(&object.anchor) {
                continue;
            }
            changed.push((at, stamp, object));
        }
    }
    changed.sort_by(|(a, _, a_object), (b, _, b_object)| {
        (a.seconds, a.nanoseconds, &a_object.anchor).cmp(&(
            b.seconds,
            b.nanoseconds,
            &b_object.anchor,
        ))
    });
    let more = changed.len() > page_size;
    changed.truncate(page_size);
    let watermark = match changed.last() {
        None => Watermark::ModifyTimestamp { since, seen },
        Some((_, last, _)) => {
            let mut at_last: Vec<String> = if since.as_deref() == Some(last.as_str()) {
                seen
            } else {
                Vec::new()
            };
            at_last.extend(
                changed
                    .iter()
                    .filter(|(_, stamp, _)| stamp == last)
                    .map(|(_, _, object)| object.anchor.clone()),
            );
            Watermark::ModifyTimestamp {
                since: Some(last.clone()),
                seen: at_last,
            }
        }
    };
    Ok(DeltaPage {
        entries: changed
            .into_iter()
            .map(|(_, _, object)| DeltaEntry::Upsert(object))
            .collect(),
        watermark: watermark.encode(),
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> Stamp {
        Stamp::parse(text).unwrap()
    }

    fn change(start: &str) -> LoggedChange {
        LoggedChange {
            start: start.to_owned(),
            at: Datetime::parse_generalized_time(start).unwrap(),
            kind: ChangeKind::Modify,
            dn: "uid=a,dc=example,dc=org".to_owned(),
            new_dn: None,
            uuid: None,
        }
    }

    fn accesslog(after: Option<&str>, seen: &[&str]) -> Watermark {
        Watermark::Accesslog {
            after: after.map(str::to_owned),
            seen: seen.iter().map(|text| text.to_string()).collect(),
        }
    }

    #[test]
    fn the_first_watermark_is_the_newest_entry_and_its_recent_neighbours() {
        let logged = [
            stamp("20240501115950.000001Z"),
            stamp("20240501115957.000001Z"),
            stamp("20240501120000.000001Z"),
            stamp("20240501120001.734030Z"),
        ];
        assert_eq!(
            accesslog_watermark(None, Vec::new(), &logged),
            accesslog(
                Some("20240501120001.734030Z"),
                &[
                    "20240501115957.000001Z",
                    "20240501120000.000001Z",
                    "20240501120001.734030Z"
                ]
            )
        );
        assert_eq!(
            accesslog_watermark(None, Vec::new(), &[]),
            accesslog(None, &[])
        );
    }

    #[test]
    fn pages_skip_what_was_handled_and_take_late_arrivals() {
        let after = "20240501120010.000005Z";
        let seen = vec!["20240501120008.000001Z".to_owned(), after.to_owned()];
        let bound = accesslog_bound(Some(after));
        assert_eq!(
            bound,
            Some(Datetime::parse_generalized_time(after).unwrap().seconds - LAG_SECONDS)
        );
        // Already handled: skipped, so nothing loops.
        assert!(!unhandled(&change(after), bound, &seen));
        assert!(!unhandled(&change("20240501120008.000001Z"), bound, &seen));
        // Began before the watermark but logged after it was taken: handled now.
        assert!(unhandled(&change("20240501120009.000001Z"), bound, &seen));
        assert!(unhandled(&change("20240501120010.000006Z"), bound, &seen));
        // Older than the look-back: handled long ago.
        assert!(!unhandled(&change("20240501120004.000001Z"), bound, &seen));
        assert!(unhandled(&change("19700101000000Z"), None, &[]));
    }

    #[test]
    fn the_server_leaves_out_what_was_handled() {
        let bound = stamp("20240501120000.5Z").seconds - LAG_SECONDS;
        assert_eq!(
            filter::render(&accesslog_filter(
                Some(bound),
                &["20240501120000.5Z".into(), "20240501115959.25Z".into()]
            )),
            "(&(objectClass=auditWriteObject)(reqResult=0)(reqStart>=20240501115955Z)\
             (!(reqStart=20240501120000.5Z))(!(reqStart=20240501115959.25Z)))"
        );
        assert_eq!(
            filter::render(&accesslog_filter(None, &[])),
            "(&(objectClass=auditWriteObject)(reqResult=0))"
        );
    }

    #[test]
    fn the_watermark_moves_to_the_newest_and_forgets_what_is_out_of_reach() {
        let next = accesslog_watermark(
            Some("20240501120010.000005Z".into()),
            vec![
                "20240501120006.000001Z".into(),
                "20240501120010.000005Z".into(),
            ],
            &[
                stamp("20240501120009.000001Z"),
                stamp("20240501120012.000001Z"),
            ],
        );
        assert_eq!(
            next,
            accesslog(
                Some("20240501120012.000001Z"),
                &[
                    "20240501120010.000005Z",
                    "20240501120009.000001Z",
                    "20240501120012.000001Z"
                ]
            )
        );
        // A page of late arrivals only keeps the watermark where it was.
        let late = accesslog_watermark(
            Some("20240501120010.000005Z".into()),
            vec!["20240501120010.000005Z".into()],
            &[stamp("20240501120009.000001Z")],
        );
        assert_eq!(
            late,
            accesslog(
                Some("20240501120010.000005Z"),
                &["20240501120010.000005Z", "20240501120009.000001Z"]
            )
        );
    }
}
