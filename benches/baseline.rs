//! Not a benchmark: the hand-written single-threaded baseline of issue 7
//! (csv + rust_decimal, the 20 targets of the Bắc Giang 2024 plan hard-coded)
//! run once over a file, to be timed like `thidua eval`:
//!
//! ```text
//! cargo bench --bench baseline -- IN.csv OUT.csv
//! ```
//! The binary is the `Executable` that `cargo bench --bench baseline --no-run`
//! names; docs/performance.md times it with `/usr/bin/time -v`.

mod common;

fn main() {
    // `cargo bench` passes `--bench`; ignore every flag.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [input, output] = args.as_slice() else {
        // Run bare by `cargo bench`: nothing to do.
        eprintln!("usage: baseline IN.csv OUT.csv");
        return;
    };
    match common::bg20::csv_to_csv(input.as_ref(), output.as_ref()) {
        Ok(n) => eprintln!("{n} units"),
        Err(e) => {
            eprintln!("baseline: {e}");
            std::process::exit(1)
        }
    }
}
