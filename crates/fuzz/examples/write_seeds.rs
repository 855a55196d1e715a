//! Writes every target's seeds to `DIR/<target>/<n>` (for `scripts/fuzz.sh`):
//! `cargo run -p lockstep-fuzz --example write_seeds -- DIR`.

#![allow(clippy::unwrap_used)]

fn main() {
    let dir = std::env::args().nth(1).expect("usage: write_seeds DIR");
    for (name, _) in lockstep_fuzz::TARGETS {
        let out = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&out).unwrap();
        for (i, seed) in lockstep_fuzz::seeds::seeds(name).iter().enumerate() {
            std::fs::write(out.join(format!("seed-{i}")), seed).unwrap();
        }
    }
}
