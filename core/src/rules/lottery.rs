//! Weighted lottery draws, reproducible from a seed.

use crate::model::Prize;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Draws a prize index. With a seed, the draw is a pure function of
/// (seed, card, spin number); without, it uses the OS random source.
pub fn draw(prizes: &[Prize], seed: Option<u64>, card_id: u64, spin: u32) -> Option<usize> {
    let total: u64 = prizes.iter().map(|p| u64::from(p.weight)).sum();
    if total == 0 {
        return None;
    }
    let roll = match seed {
        Some(seed) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(&seed.to_be_bytes()).ok()?;
            mac.update(format!("lottery|{card_id}|{spin}").as_bytes());
            let bytes = mac.finalize().into_bytes();
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[..8]);
            u64::from_be_bytes(b) % total
        }
        None => rand::random::<u64>() % total,
    };
    let mut acc = 0u64;
    for (i, p) in prizes.iter().enumerate() {
        acc += u64::from(p.weight);
        if roll < acc {
            return Some(i);
        }
    }
    None
}
