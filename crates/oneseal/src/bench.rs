//! `oneseal bench lifecycle`: start a server on a fresh database, drive complete case lifecycles through HTTP with
//! concurrent clients, and measure the raw reference (single-row committed inserts on the same disk and
//! durability) in the same run.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Complete lifecycles through HTTP.
    Lifecycle {
        #[arg(long, default_value_t = 2000)]
        n: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

pub fn run(_c: BenchCmd) -> Result<(), String> {
    Err("not yet".into())
}
