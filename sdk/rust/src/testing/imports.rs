//! Whole imports, page by page, as the host asks for them.

use crate::connector::Session;
use crate::types::{DeltaEntry, Object};

/// Every object of a full import in pages of `page_size`, and the watermark of its last
/// page. Panics when a page breaks the contract: more objects than asked for, or a
/// watermark on a page that is not the last.
pub fn import_all(session: &dyn Session, page_size: u32) -> (Vec<Object>, Option<String>) {
    let mut cursor: Option<String> = None;
    let mut objects = Vec::new();
    loop {
        let page = session
            .full_import(cursor.as_deref(), page_size)
            .unwrap_or_else(|error| panic!("full import failed: {error:?}"));
        assert!(
            page.objects.len() <= page_size as usize,
            "a page of {} objects for a page size of {page_size}",
            page.objects.len()
        );
        objects.extend(page.objects);
        match page.next_cursor {
            Some(next) => {
                assert_eq!(
                    page.watermark, None,
                    "only the last page carries the watermark"
                );
                cursor = Some(next);
            }
            None => return (objects, page.watermark),
        }
    }
}

/// Every delta entry from `watermark` on, in pages of `page_size` read until a page says
/// there is no more, and the last watermark. Panics when a page is larger than asked for
/// or the import never ends.
pub fn delta_all(
    session: &dyn Session,
    watermark: &str,
    page_size: u32,
) -> (Vec<DeltaEntry>, String) {
    let mut entries = Vec::new();
    let mut watermark = watermark.to_owned();
    for _ in 0..10_000 {
        let page = session
            .delta_import(&watermark, page_size)
            .unwrap_or_else(|error| panic!("delta import failed: {error:?}"));
        assert!(
            page.entries.len() <= page_size as usize,
            "a page of {} entries for a page size of {page_size}",
            page.entries.len()
        );
        entries.extend(page.entries);
        watermark = page.watermark;
        if !page.more {
            return (entries, watermark);
        }
    }
    panic!("the delta import never finished");
}
