//! Reading the LDIF that `ldapsearch -LLL` prints, for test assertions.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The attributes of the first entry in `ldif`, keyed by attribute name as the server
/// spelled it, values in server order; `None` when there is no entry. The `dn:` line is left
/// out. Values sent as base64 (`name:: …`) are decoded; ones that are not UTF-8 (e.g. a
/// photo) are converted lossily, which is enough to assert on text attributes.
pub(crate) fn first_entry(ldif: &str) -> Option<BTreeMap<String, Vec<String>>> {
    let mut lines = unfolded_lines(ldif)
        .into_iter()
        .skip_while(|line| line.is_empty() || line.starts_with('#'));
    lines.next()?.strip_prefix("dn:")?;
    let mut entry: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not an LDIF attribute line: {line:?}"));
        let value = match value.strip_prefix(':') {
            Some(encoded) => {
                let bytes = STANDARD
                    .decode(encoded.trim())
                    .unwrap_or_else(|error| panic!("bad base64 in {line:?}: {error}"));
                String::from_utf8_lossy(&bytes).into_owned()
            }
            None => value.strip_prefix(' ').unwrap_or(value).to_owned(),
        };
        entry.entry(name.to_owned()).or_default().push(value);
    }
    Some(entry)
}

/// The logical lines of `ldif`: a line starting with one space continues the previous one.
fn unfolded_lines(ldif: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in ldif.lines() {
        match (line.strip_prefix(' '), lines.last_mut()) {
            (Some(continuation), Some(previous)) => previous.push_str(continuation),
            _ => lines.push(line.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::first_entry;

    #[test]
    fn reads_plain_base64_and_folded_values() {
        let ldif = "dn: uid=a,dc=example,dc=org\nobjectClass: top\nobjectClass: person\n\
                    cn:: w6lsw6g=\ndescription: one\n  two\n\ndn: uid=b,dc=example,dc=org\n";
        let entry = first_entry(ldif).unwrap();
        assert_eq!(entry["objectClass"], ["top", "person"]);
        assert_eq!(entry["cn"], ["élè"]);
        assert_eq!(entry["description"], ["one two"]);
        assert_eq!(entry.len(), 3);
    }

    #[test]
    fn no_entry_is_none() {
        assert_eq!(first_entry(""), None);
    }
}
