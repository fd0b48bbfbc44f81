//! Starts the process-wide shared test slapd, prints `PORT FOLDER` on one line, and exits
//! when its standard input closes, without dropping the server: what a test process does.
//! The cleanup tests kill or end it and check that nothing survives; it is also a quick way
//! to get a throwaway directory by hand (admin `cn=admin,dc=example,dc=org`, password
//! `ferry-test-admin`, CA in `ca.pem`).

use std::io::Read;

fn main() {
    let slapd = ferry_test_support::shared_slapd();
    println!("{} {}", slapd.port(), slapd.folder().display());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
