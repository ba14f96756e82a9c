//! Not a benchmark: writes the generated inputs of the end-to-end
//! measurements in docs/performance.md.
//!
//! ```text
//! cargo bench --bench gen_data -- bac_giang N OUT.csv        # N units for the Bắc Giang 2024 plan
//! cargo bench --bench gen_data -- plan C I OUT.thidua        # a plan of C criteria over I indicators
//! cargo bench --bench gen_data -- plan_data I N OUT.csv      # N units for such a plan
//! ```
//! The same seed as the criterion benchmarks: the files hold the units they
//! time.

mod common;

use std::io::{BufWriter, Write};
use std::process::exit;

const USAGE: &str = "usage: gen_data bac_giang N OUT.csv | plan CRITERIA INDICATORS OUT.thidua | plan_data INDICATORS N OUT.csv";

fn usage() -> ! {
    eprintln!("{USAGE}");
    exit(2)
}

fn num(s: Option<&String>) -> usize {
    s.and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or_else(|| usage())
}

fn main() {
    // `cargo bench` passes `--bench`; ignore every flag.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // Run bare by `cargo bench`: nothing to generate.
    let Some(what) = args.first() else {
        eprintln!("gen_data writes benchmark inputs; {USAGE}");
        return;
    };
    let (out_path, text_len) = match what.as_str() {
        "bac_giang" => {
            let n = num(args.get(1));
            let out = args.get(2).unwrap_or_else(|| usage());
            let f = std::fs::File::create(out).unwrap_or_else(|e| {
                eprintln!("cannot create {out}: {e}");
                exit(2)
            });
            let mut w = BufWriter::new(f);
            let mut rng = common::Rng::new(common::SEED);
            let mut buf = common::bac_giang_header();
            let mut total = 0;
            for i in 0..n {
                common::bac_giang_row(&mut buf, i, n, &mut rng);
                if buf.len() > 1 << 16 {
                    w.write_all(buf.as_bytes()).expect("write");
                    total += buf.len();
                    buf.clear();
                }
            }
            w.write_all(buf.as_bytes()).expect("write");
            w.flush().expect("write");
            (out.clone(), total + buf.len())
        }
        "plan" => {
            let c = num(args.get(1));
            let i = num(args.get(2));
            let out = args.get(3).unwrap_or_else(|| usage());
            let text = common::large_plan(c, i);
            std::fs::write(out, &text).expect("write");
            (out.clone(), text.len())
        }
        "plan_data" => {
            let i = num(args.get(1));
            let n = num(args.get(2));
            let out = args.get(3).unwrap_or_else(|| usage());
            let text = common::large_plan_csv(i, n, common::SEED);
            std::fs::write(out, &text).expect("write");
            (out.clone(), text.len())
        }
        _ => usage(),
    };
    eprintln!("wrote {out_path} ({text_len} bytes)");
}
