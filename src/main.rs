//! The `thidua` command: parses arguments, dispatches to the library,
//! decides exit codes. Nothing the library needs lives here.

mod cli;

fn main() {
    // Deep but bounded recursion in the checker and evaluator gets a large
    // stack of its own, so hostile files end in diagnostics, not crashes.
    let child = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(cli::run);
    let code = match child {
        Ok(h) => h.join().unwrap_or(2),
        Err(_) => cli::run(),
    };
    std::process::exit(code);
}

/// Evaluation allocates many small results from a worker thread; mimalloc
/// serves that far better than glibc's per-thread arenas, which grow by
/// `mprotect` calls.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
