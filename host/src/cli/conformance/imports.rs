//! Checks of imports, which fill and refresh the host's cache: a full import pages
//! (every object exactly once over several small pages, and the cursor ends), and a
//! delta import, where the connector offers one, reports a change and a deletion made
//! after the watermark.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::runtime::bindings::types::{AttributeChange, Change, DeltaEntry, ErrorKind, Value};

use super::harness::Harness;
use super::plan::Plan;
use super::report::Outcome;
use super::values::{expect_attributes, expect_schema, single, values_of};

/// The page size of the paging check: small, so a few objects make several pages.
pub const PAGE_SIZE: u32 = 4;

/// Objects the paging check creates: two and a half pages.
const PAGED: u32 = 10;

/// How long a delta import may take to show a change: targets that note changes
/// asynchronously (a replication log, a timestamp of coarse resolution) need a moment.
const DELTA_PATIENCE: Duration = Duration::from_secs(30);

/// Creates [`PAGED`] objects in one export call, runs a full import with
/// [`PAGE_SIZE`], and checks that each comes exactly once (and no object twice), then
/// deletes them in one export call.
pub async fn paging(h: &Harness, plan: &Plan) -> Result<String, String> {
    let seqs: Vec<u32> = (1..=PAGED).collect();
    let results = h
        .add_many(seqs.iter().map(|seq| plan.minimal(*seq)).collect())
        .await
        .map_err(|e| format!("one export of {PAGED} adds failed: {e}"))?;
    let mut added = Vec::new();
    for (seq, result) in seqs.iter().zip(results) {
        match result {
            Ok(Some(object)) => added.push((*seq, object.anchor)),
            Ok(None) => return Err(format!("add {seq} of {PAGED} returned no object")),
            Err(e) => return Err(format!("add {seq} of {PAGED} (in one export) failed: {e}")),
        }
    }
    let imported = h
        .import(PAGE_SIZE)
        .await
        .map_err(|e| format!("the full import with page size {PAGE_SIZE} failed: {e}"))?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for object in &imported.objects {
        expect_schema(object, &plan.schema)?;
        *counts.entry(object.anchor.as_str()).or_default() += 1;
    }
    if let Some((anchor, n)) = counts.iter().find(|(_, n)| **n > 1) {
        return Err(format!(
            "object '{anchor}' came {n} times in one full import with page size {PAGE_SIZE}"
        ));
    }
    for (seq, anchor) in &added {
        let Some(object) = imported.objects.iter().find(|o| &o.anchor == anchor) else {
            return Err(format!(
                "object '{anchor}' (add {seq} of {PAGED}) is missing from the full import \
                 with page size {PAGE_SIZE}"
            ));
        };
        expect_attributes(object, &plan.readable(&plan.minimal(*seq)))?;
    }
    let deletes = added
        .iter()
        .map(|(_, anchor)| Change::Delete(h.object_ref(anchor)))
        .collect();
    let results = h
        .export(deletes)
        .await
        .map_err(|e| format!("one export of {PAGED} deletes failed: {e}"))?;
    if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
        return Err(format!("a delete (in one export of {PAGED}) failed: {e}"));
    }
    Ok(format!(
        "{} object(s) in {} pages of at most {PAGE_SIZE}",
        imported.objects.len(),
        imported.pages.len()
    ))
}

/// The two delta checks: a change and an add after a full import's watermark surface in
/// a delta import from it; then a deletion surfaces. Skipped when `describe` does not
/// offer delta imports, when the full import gives no watermark, or when the connector
/// answers `unsupported` (the configuration gives it nothing to watch).
pub async fn delta(h: &Harness, plan: &Plan, supported: bool) -> [Outcome; 2] {
    let skip = |why: String| [Outcome::Skip(why.clone()), Outcome::Skip(why)];
    if !supported {
        return skip("describe says delta import is not supported".into());
    }
    let fail = |why: String| {
        [
            Outcome::Fail(why),
            Outcome::Skip("needs the change check".into()),
        ]
    };
    let (changed_seq, added_seq) = (20, 21);
    let changed = match h.add(plan.full(changed_seq)).await {
        Ok(object) => object.anchor,
        Err(e) => return fail(format!("adding the object to change failed: {e}")),
    };
    let watermark = match h.import_all().await {
        Ok(imported) => match imported.watermark {
            Some(watermark) => watermark,
            None => {
                return skip(
                    "the full import ended without a watermark: this configuration gives \
                     delta imports nothing to watch"
                        .into(),
                );
            }
        },
        Err(e) => return fail(format!("the full import failed: {e}")),
    };
    // What changes: an exercised attribute, else the name.
    let attribute = plan.kinds.first().unwrap_or(&plan.name);
    let new_value = if attribute.name == plan.name.name {
        Value::String(format!("{}-changed", plan.name_value(changed_seq)))
    } else {
        plan.value(attribute, changed_seq, 1)
    };
    let expected = single(&attribute.name, new_value);
    if let Err(e) = h
        .update(&changed, vec![AttributeChange::Replace(expected.clone())])
        .await
    {
        return fail(format!("the update after the watermark failed: {e}"));
    }
    let added = match h.add(plan.minimal(added_seq)).await {
        Ok(object) => object.anchor,
        Err(e) => return fail(format!("the add after the watermark failed: {e}")),
    };
    let name = plan.name.name.as_str();
    let seen = poll(h, &watermark, |entries| {
        let upserted = |anchor: &str| {
            entries.iter().rev().find_map(|entry| match entry {
                DeltaEntry::Upsert(object) if object.anchor == anchor => Some(object),
                _ => None,
            })
        };
        let change = upserted(&changed)
            .filter(|o| expect_attributes(o, std::slice::from_ref(&expected)).is_ok());
        match (change, upserted(&added)) {
            (Some(change), Some(_)) => Some(
                // An upsert is the object's whole state, not only what changed.
                if values_of(change, name).is_empty() {
                    Err(format!(
                        "the upsert of '{changed}' lacks its '{name}': an upsert carries the \
                         whole object"
                    ))
                } else {
                    Ok(())
                },
            ),
            _ => None,
        }
    })
    .await;
    let after_changes = match seen {
        Polled::Seen(watermark, Ok(())) => watermark,
        Polled::Seen(_, Err(why)) => return fail(why),
        Polled::Unsupported(why) => return skip(why),
        Polled::Failed(why) => return fail(why),
        Polled::NotSeen => {
            return fail(format!(
                "within {}s of delta imports from the watermark, the change of '{changed}' \
                 ({}) and the add of '{added}' did not both surface",
                DELTA_PATIENCE.as_secs(),
                attribute.name
            ));
        }
    };
    let change = Outcome::Pass("a change and an add made after the watermark surfaced".into());
    if let Err(e) = h.delete(&changed).await {
        return [change, Outcome::Fail(format!("the delete failed: {e}"))];
    }
    let deleted = poll(h, &after_changes, |entries| {
        entries
            .iter()
            .any(|e| matches!(e, DeltaEntry::Delete(r) if r.anchor == changed))
            .then_some(Ok(()))
    })
    .await;
    let deletion = match deleted {
        Polled::Seen(..) => Outcome::Pass(String::new()),
        Polled::Unsupported(why) | Polled::Failed(why) => Outcome::Fail(why),
        Polled::NotSeen => Outcome::Fail(format!(
            "within {}s of delta imports, the delete of '{changed}' did not surface \
             (configurations that cannot see deletions, such as a watermark column or \
             modifyTimestamp, fail this check)",
            DELTA_PATIENCE.as_secs()
        )),
    };
    [change, deletion]
}

/// What polling delta imports found.
enum Polled {
    /// `found` said yes (with its verdict); the watermark after the entries.
    Seen(String, Result<(), String>),
    /// The connector answered `unsupported`.
    Unsupported(String),
    /// A delta import failed.
    Failed(String),
    /// Not within [`DELTA_PATIENCE`].
    NotSeen,
}

/// Runs delta imports from `watermark` until `found` gives a verdict on the entries.
async fn poll(
    h: &Harness,
    watermark: &str,
    found: impl Fn(&[DeltaEntry]) -> Option<Result<(), String>>,
) -> Polled {
    let deadline = Instant::now() + DELTA_PATIENCE;
    loop {
        match h.delta(watermark.to_owned()).await {
            Ok((entries, next)) => {
                if let Some(verdict) = found(&entries) {
                    return Polled::Seen(next, verdict);
                }
            }
            Err(e) if e.kind() == Some(ErrorKind::Unsupported) => {
                return Polled::Unsupported(format!("delta-import answered {e}"));
            }
            Err(e) => return Polled::Failed(format!("the delta import failed: {e}")),
        }
        if Instant::now() >= deadline {
            return Polled::NotSeen;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
