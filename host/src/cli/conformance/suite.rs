//! The order of the checks and what depends on what: the contract checks first, then one
//! object's life, the error kinds, imports, and always cleanup last. A check that cannot
//! run because an earlier one failed is reported as skipped with that reason, so the
//! report still lists everything and the first failure is the one to read.

use crate::runtime::bindings::types::{AttributeSchema, ConnectorInfo, ValueType};
use crate::runtime::pool::SessionPool;

use super::harness::Harness;
use super::plan::{Hints, KINDS, Plan, kind_name};
use super::report::{Outcome, Report};
use super::values::{LARGE_BYTES, large, unicode};
use super::{contract, error_kinds, imports, lifecycle};

/// Runs every check on `pool` (the app's sessions of the connector `info` describes),
/// reading back with `page_size`, and records them in `report`.
pub async fn run(
    pool: SessionPool,
    info: &ConnectorInfo,
    hints: &Hints,
    page_size: u32,
    report: &mut Report,
) {
    report.record("describe", contract::describe(info));
    let (verdict, schema) = contract::schema(&pool).await;
    report.record("schema", verdict);
    report.record("test-connection", contract::test_connection(&pool).await);
    let Some(schema) = schema else {
        report.record(
            "object checks",
            Outcome::Skip("they need the schema".into()),
        );
        return;
    };
    let plan = match Plan::new(&schema, hints, run_id()) {
        Ok(plan) => plan,
        Err(e) => {
            report.record("plan", Outcome::Fail(e));
            report.record("object checks", Outcome::Skip("they need a plan".into()));
            return;
        }
    };
    report.record("plan", Outcome::Pass(plan.summary()));
    let h = Harness::new(pool, plan.object_type.clone(), page_size);
    let deleted = object_life(&h, &plan, info.features.rename, report).await;
    match deleted {
        Some(anchor) => {
            report.record(
                "error: update of a missing object → not-found",
                error_kinds::update_missing(&h, &plan, &anchor).await,
            );
            report.record(
                "error: delete of a missing object → not-found",
                error_kinds::delete_missing(&h, &anchor).await,
            );
        }
        None => report.skip_all(
            &[
                "error: update of a missing object → not-found",
                "error: delete of a missing object → not-found",
            ],
            "they need the anchor of a deleted object",
        ),
    }
    let omitted = error_kinds::required_to_omit(&plan);
    let check = titled("error: add without required", omitted) + " → invalid-input";
    let outcome = match omitted {
        Some(omitted) => error_kinds::missing_required(&h, &plan, &omitted.name)
            .await
            .into(),
        None => Outcome::Skip("the schema has no required attribute".into()),
    };
    report.record(check, outcome);
    report.record(
        "error: add with an undeclared attribute → invalid-input",
        error_kinds::unknown_attribute(&h, &plan).await,
    );
    report.record("full import paging", imports::paging(&h, &plan).await);
    let [change, deletion] = imports::delta(&h, &plan, info.features.delta_import).await;
    report.record("delta import: change", change);
    report.record("delta import: deletion", deletion);
    report.record("cleanup", h.cleanup(&plan.name.name, &plan.run).await);
}

/// The checks of the main object's life; returns its anchor once it is deleted.
async fn object_life(
    h: &Harness,
    plan: &Plan,
    rename_supported: bool,
    report: &mut Report,
) -> Option<String> {
    let mut names: Vec<String> = vec![
        "read back (full import)".into(),
        "read back (read, contract 0.2.0)".into(),
    ];
    names.extend(KINDS.iter().map(|kind| replace_name(plan, *kind)));
    names.extend(multi_names(plan));
    names.extend([
        clear_name(plan),
        unicode_name(plan),
        large_name(plan),
        "rename".into(),
        "error: duplicate add → already-exists".into(),
        "delete".into(),
    ]);
    let (verdict, anchor) = lifecycle::add(h, plan).await;
    report.record("add", verdict);
    let Some(anchor) = anchor else {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        report.skip_all(&names, "it needs the object 'add' creates");
        return None;
    };
    report.record(
        "read back (full import)",
        lifecycle::read_back(h, plan, &anchor).await,
    );
    report.record(
        "read back (read, contract 0.2.0)",
        lifecycle::read_one(h, plan, &anchor).await,
    );
    for kind in KINDS {
        let outcome = match plan.of_kind(kind) {
            Some(a) => lifecycle::replace(h, plan, &anchor, &a.name).await.into(),
            None => Outcome::Skip(format!(
                "the schema has no writable {} attribute",
                kind_name(kind)
            )),
        };
        report.record(replace_name(plan, kind), outcome);
    }
    let [add_name, remove_name] = multi_names(plan);
    if plan.multi.is_some() {
        report.record(add_name, lifecycle::add_values(h, plan, &anchor).await);
        report.record(
            remove_name,
            lifecycle::remove_values(h, plan, &anchor).await,
        );
    } else {
        report.skip_all(
            &[add_name.as_str(), remove_name.as_str()],
            "the schema has no other optional multi-valued attribute",
        );
    }
    let outcome = match plan.clearable() {
        Some(a) => lifecycle::clear(h, plan, &anchor, &a.name).await.into(),
        None => Outcome::Skip("no optional attribute is exercised".into()),
    };
    report.record(clear_name(plan), outcome);
    for (name, text) in [
        (unicode_name(plan), unicode(&plan.run)),
        (large_name(plan), large(&plan.run)),
    ] {
        let outcome = match plan.text() {
            Some(a) => lifecycle::text(h, plan, &anchor, &a.name, text)
                .await
                .into(),
            None => Outcome::Skip("the schema has no writable string attribute".into()),
        };
        report.record(name, outcome);
    }
    let (outcome, name_now) = lifecycle::rename(h, plan, &anchor).await;
    let outcome = match outcome {
        Outcome::Skip(why) if rename_supported => {
            Outcome::Skip(format!("describe says rename is supported, but {why}"))
        }
        other => other,
    };
    report.record("rename", outcome);
    report.record(
        "error: duplicate add → already-exists",
        error_kinds::duplicate(h, plan, &name_now).await,
    );
    let deleted = lifecycle::delete(h, &anchor).await;
    let gone = deleted.is_ok();
    report.record("delete", deleted);
    gone.then_some(anchor)
}

fn replace_name(plan: &Plan, kind: ValueType) -> String {
    let check = format!("update: replace {}", kind_name(kind));
    titled(&check, plan.of_kind(kind))
}

fn multi_names(plan: &Plan) -> [String; 2] {
    ["update: add-values", "update: remove-values"].map(|check| titled(check, plan.multi.as_ref()))
}

fn clear_name(plan: &Plan) -> String {
    titled("update: clear", plan.clearable())
}

fn unicode_name(plan: &Plan) -> String {
    titled("Unicode (non-BMP, combining, RTL) round-trip", plan.text())
}

fn large_name(plan: &Plan) -> String {
    let check = format!("large value ({} KiB) round-trip", LARGE_BYTES / 1024);
    titled(&check, plan.text())
}

/// A check's name with the attribute it exercises, when there is one.
fn titled(check: &str, attribute: Option<&AttributeSchema>) -> String {
    match attribute {
        Some(a) => format!("{check} '{}'", a.name),
        None => check.to_owned(),
    }
}

/// What every value this run writes starts with: short, lowercase letters and digits,
/// so it fits a uid or a key column, and unique enough that two runs never meet.
fn run_id() -> String {
    format!("fct{:08x}", rand::random::<u32>())
}
