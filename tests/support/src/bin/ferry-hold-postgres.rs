//! Starts the process-wide shared PostgreSQL test server, prints `PORT FOLDER` on one
//! line, and exits when its standard input closes, without dropping the server: what a
//! test process does. The cleanup tests kill or end it and check that nothing survives;
//! it is also a quick way to get a throwaway server by hand.

use std::io::Read;

fn main() {
    let postgres = ferry_test_support::shared_postgres();
    println!("{} {}", postgres.port(), postgres.folder().display());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
