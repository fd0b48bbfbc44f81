//! `GET /Users` with `filter`, `startIndex`, `count`, `attributes` and
//! `excludedAttributes`, answered from the cache. A filter that requires an equality on
//! an indexed attribute (what IdPs send: `userName eq "x"`) is answered by an index
//! probe plus evaluation of the whole filter on the candidates; anything else scans.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::error::{ScimError, ScimType};
use super::filter::{Filter, parse_filter};
use super::id;
use super::mapping::Mapping;
use super::mapping::render::Meta;
use super::projection::Projection;
use super::schema::LIST_RESPONSE;
use crate::store::cache::{Cache, CachedObject};

/// The most resources one page returns; a larger `count` is lowered to it (RFC 7644
/// §3.4.2.4 lets a service provider return fewer).
pub const MAX_COUNT: usize = 1000;

/// Objects read per batch when a list must scan.
const SCAN_BATCH: usize = 1000;

/// A list request's parameters.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// The parsed filter.
    pub filter: Option<Filter>,
    /// 1-based index of the first result.
    pub start_index: usize,
    /// Results per page.
    pub count: usize,
    /// Which attributes to return.
    pub projection: Projection,
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn number(params: &HashMap<String, String>, name: &str, default: i64) -> Result<i64, ScimError> {
    match param(params, name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            ScimError::bad_request(
                ScimType::InvalidValue,
                format!("{name} must be a whole number, not '{v}'"),
            )
        }),
    }
}

impl ListQuery {
    /// Parses the query string's parameters (names compared without case).
    pub fn parse(params: &HashMap<String, String>) -> Result<Self, ScimError> {
        let filter = param(params, "filter").map(parse_filter).transpose()?;
        let start_index = number(params, "startIndex", 1)?.max(1) as usize;
        let count = number(params, "count", MAX_COUNT as i64)?.clamp(0, MAX_COUNT as i64) as usize;
        let projection = Projection::parse(
            param(params, "attributes"),
            param(params, "excludedAttributes"),
        )?;
        Ok(Self {
            filter,
            start_index,
            count,
            projection,
        })
    }
}

/// Runs a list query over the cache and builds the ListResponse.
pub async fn list(
    cache: &Cache,
    mapping: &Mapping,
    query: &ListQuery,
    endpoint: &str,
) -> Result<Value, ScimError> {
    let internal =
        |e: anyhow::Error| ScimError::internal(format!("reading the cache failed: {e:#}"));
    let render = |c: &CachedObject| {
        mapping.render(
            &c.object,
            &Meta {
                created: c.created,
                modified: c.modified,
                endpoint,
            },
        )
    };
    let skip = query.start_index - 1;
    if query.filter.is_none() {
        // Every object matches: count them and render only the page (Entra ID's
        // `?count=0` probes, and paging through everything, never render the rest).
        let total = cache.count(&mapping.object_type).await.map_err(internal)?;
        let page = match query.count {
            0 => Vec::new(),
            count => cache
                .page(&mapping.object_type, skip, count)
                .await
                .map_err(internal)?
                .iter()
                .map(|c| query.projection.apply(render(c), &mapping.schema))
                .collect(),
        };
        return Ok(list_response(total as usize, query.start_index, page));
    }
    let mut total = 0usize;
    let mut page = Vec::new();
    // Renders a candidate, keeps it if the filter matches, and pages it.
    let mut consider = |c: &CachedObject| {
        let resource = render(c);
        if query
            .filter
            .as_ref()
            .is_some_and(|f| !f.matches(&resource, &mapping.schema))
        {
            return;
        }
        if total >= skip && page.len() < query.count {
            page.push(query.projection.apply(resource, &mapping.schema));
        }
        total += 1;
    };
    match candidates(cache, mapping, query.filter.as_ref())
        .await
        .map_err(internal)?
    {
        Some(found) => {
            found.iter().for_each(&mut consider);
        }
        None => {
            let mut after = None;
            let mut scanned = 0;
            loop {
                let batch = cache
                    .scan(&mapping.object_type, after.take(), SCAN_BATCH)
                    .await
                    .map_err(internal)?;
                scanned += batch.len();
                batch.iter().for_each(&mut consider);
                match batch.last() {
                    Some(last) if batch.len() == SCAN_BATCH => {
                        after = Some(last.object.anchor.clone())
                    }
                    _ => break,
                }
            }
            report_unindexed(cache, mapping, query.filter.as_ref(), scanned);
        }
    }
    Ok(list_response(total, query.start_index, page))
}

/// A ListResponse body. Built by hand, not with `json!`: the macro would serialise the
/// page into a copy of itself (perf showed that at 5% of a cached read).
pub(crate) fn list_response(total: usize, start_index: usize, page: Vec<Value>) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([LIST_RESPONSE]));
    body.insert("totalResults".into(), total.into());
    body.insert("startIndex".into(), start_index.into());
    body.insert("itemsPerPage".into(), page.len().into());
    body.insert("Resources".into(), Value::Array(page));
    Value::Object(body)
}

/// The objects that may match, found through an index; `None` when no equality the
/// filter requires can use one (the caller scans).
async fn candidates(
    cache: &Cache,
    mapping: &Mapping,
    filter: Option<&Filter>,
) -> anyhow::Result<Option<Vec<CachedObject>>> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    for (path, value) in filter.required_equalities() {
        if path.schema.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("id") {
            let found = match id::decode(&value) {
                Some(anchor) => cache
                    .get(&mapping.object_type, &anchor)
                    .await?
                    .into_iter()
                    .collect(),
                None => vec![],
            };
            return Ok(Some(found));
        }
        if let Some(attribute) = mapping.attribute_for(&path)
            && cache.is_indexed(&mapping.object_type, attribute)
        {
            let key = reference_aware_key(mapping, attribute, &value);
            return Ok(Some(
                cache.find(&mapping.object_type, attribute, &key).await?,
            ));
        }
    }
    Ok(None)
}

/// After a scan: names each mapped attribute the filter requires an equality on (none
/// of them has a lookup, or there would have been no scan) to the cache's warning.
fn report_unindexed(cache: &Cache, mapping: &Mapping, filter: Option<&Filter>, scanned: usize) {
    for (path, _) in filter.map(Filter::required_equalities).unwrap_or_default() {
        if let Some(attribute) = mapping.attribute_for(&path) {
            cache.report_scan(&mapping.object_type, attribute, &path.to_string(), scanned);
        }
    }
}

/// The lookup key of a filter value: lower-cased, and for reference attributes the
/// anchor the SCIM id stands for.
fn reference_aware_key(mapping: &Mapping, attribute: &str, value: &str) -> String {
    let is_reference = mapping.attributes.iter().any(|a| {
        a.name == attribute && a.value_type == crate::runtime::bindings::types::ValueType::Reference
    });
    match is_reference.then(|| id::decode(value)).flatten() {
        Some(anchor) => anchor.to_lowercase(),
        None => value.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::runtime::bindings::types::{Attribute, Object, Value as Typed};
    use crate::scim::mapping::tests::mapping;
    use crate::store::cache::SCAN_WARNING_OBJECTS;

    fn user(i: usize) -> Object {
        let text = |name: &str, value: String| Attribute {
            name: name.into(),
            values: vec![Typed::String(value)],
        };
        let given = if i == 7 { "Alice" } else { "Bob" };
        Object {
            object_type: "user".into(),
            anchor: i.to_string(),
            attributes: vec![
                text("user_name", format!("user{i}")),
                text("given_name", given.into()),
            ],
        }
    }

    #[tokio::test]
    async fn a_filter_no_lookup_covers_scans_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapping(&[]);
        let indexed = [("user".to_string(), "user_name".to_string())].into();
        let cache = Cache::open(&dir.path().join("c.db"), indexed, BTreeSet::new()).unwrap();
        cache
            .upsert((0..SCAN_WARNING_OBJECTS).map(user).collect())
            .await
            .unwrap();
        let query = |filter: &str| ListQuery {
            filter: Some(parse_filter(filter).unwrap()),
            start_index: 1,
            count: 10,
            projection: Projection::default(),
        };

        // userName has a lookup: no scan, nothing to report.
        let found = list(&cache, &m, &query("userName eq \"user7\""), "e")
            .await
            .unwrap();
        assert_eq!(found["totalResults"], 1);
        assert!(cache.report_scan("user", "user_name", "userName", SCAN_WARNING_OBJECTS));

        // name.givenName has none: the scan finds Alice, and was reported already.
        let found = list(&cache, &m, &query("name.givenName eq \"Alice\""), "e")
            .await
            .unwrap();
        assert_eq!(found["totalResults"], 1);
        assert_eq!(found["Resources"][0]["id"], "7");
        assert!(
            !cache.report_scan("user", "given_name", "name.givenName", SCAN_WARNING_OBJECTS),
            "the scan was reported by the list"
        );
    }
}
