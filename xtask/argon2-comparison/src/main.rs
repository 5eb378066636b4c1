//! Times argon2id with OWASP's parameters (m=19456 KiB, t=2, p=1) in three Rust
//! implementations, each reusing one work area as the service's hashing threads do: alone, then
//! two at once (the service runs one hashing thread per core). Checks that all three derive the
//! same bytes. The C reference is timed by `c_reference.py` beside this file.

use std::{thread, time::Instant};

const PASSWORD: &[u8] = b"Correct horse battery 9";
const SALT: &[u8] = b"saltsaltsaltsalt";
const HASHES: usize = 40;

type Hash = Box<dyn FnMut(&mut [u8; 32]) + Send>;

fn argon2_05() -> Hash {
    use argon2_05::{Algorithm, Argon2, Block, Params, Version};
    let params = Params::new(19_456, 2, 1, None).unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut memory = vec![Block::default(); 19_456];
    Box::new(move |out| {
        argon2
            .hash_password_into_with_memory(PASSWORD, SALT, out, &mut memory)
            .unwrap();
    })
}

fn argon2_06() -> Hash {
    use argon2_06::{Algorithm, Argon2, Block, Params, Version};
    let params = Params::new(19_456, 2, 1, None).unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut memory = vec![Block::default(); 19_456];
    Box::new(move |out| {
        argon2
            .hash_password_into_with_memory(PASSWORD, SALT, out, &mut memory)
            .unwrap();
    })
}

fn argon2_rust() -> Hash {
    use argon2_rust::{Algorithm, Argon2, Params, Version};
    let mut hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT).hasher();
    Box::new(move |out| hasher.hash_into(PASSWORD, SALT, out).unwrap())
}

/// Milliseconds per hash, one thread.
fn alone(make: fn() -> Hash) -> (f64, [u8; 32]) {
    let mut hash = make();
    let mut out = [0_u8; 32];
    hash(&mut out);
    let started = Instant::now();
    for _ in 0..HASHES {
        hash(&mut out);
    }
    (
        started.elapsed().as_secs_f64() * 1000.0 / HASHES as f64,
        out,
    )
}

/// Hashes per second, two threads at once.
fn two_at_once(make: fn() -> Hash) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            thread::spawn(move || {
                let mut hash = make();
                let mut out = [0_u8; 32];
                for _ in 0..HASHES {
                    hash(&mut out);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    (2 * HASHES) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    println!("argon2-rust backend: {:?}", argon2_rust::detected_backend());
    println!("implementation | ms per hash, alone | hashes/s, two threads");
    let mut outputs = Vec::new();
    for (name, make) in [
        ("argon2 0.5.3", argon2_05 as fn() -> Hash),
        ("argon2 0.6.0", argon2_06),
        ("argon2-rust 1.1", argon2_rust),
    ] {
        let (ms, out) = alone(make);
        let per_second = two_at_once(make);
        println!("{name} | {ms:.1} | {per_second:.1}");
        outputs.push(out);
    }
    assert!(
        outputs.windows(2).all(|pair| pair[0] == pair[1]),
        "the implementations disagree"
    );
    let hex: String = outputs[0]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    println!("all three derive the same bytes: {hex}");
}
