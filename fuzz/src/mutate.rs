//! Byte-level mutations of a valid module, in the spirit of
//! `wasm-tools mutate`: each keeps most of the module intact so that the
//! decoder and validator get deep before they meet the damage.

use crate::rng::Rng;

/// Applies one to four random mutations to `bytes`.
pub fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(4) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len() as u64) as usize;
        match rng.below(7) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, rng.next_u64() as u8),
            2 => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            4 => shuffle_sections(rng, &mut bytes),
            5 => corrupt_leb(rng, &mut bytes, at),
            _ => bytes[at] = interesting_byte(rng),
        }
    }
    bytes
}

fn interesting_byte(rng: &mut Rng) -> u8 {
    [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0b, 0x40, 0x41][rng.below(8) as usize]
}

/// Rewrites the LEB128 number starting at or after `at`: over-long,
/// unterminated, or at its largest.
fn corrupt_leb(rng: &mut Rng, bytes: &mut Vec<u8>, at: usize) {
    let end = bytes[at..]
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(bytes.len(), |n| at + n + 1);
    let replacement: &[u8] = match rng.below(4) {
        0 => &[0xff, 0xff, 0xff, 0xff, 0x0f],
        1 => &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        2 => &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        _ => &[0x80],
    };
    bytes.splice(at..end, replacement.iter().copied());
}

/// Swaps two sections (or drops one), keeping each section whole.
fn shuffle_sections(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let sections = sections(bytes);
    if sections.len() < 2 {
        return;
    }
    let i = rng.below(sections.len() as u64) as usize;
    let j = rng.below(sections.len() as u64) as usize;
    let mut parts: Vec<Vec<u8>> = sections.iter().map(|r| bytes[r.clone()].to_vec()).collect();
    if i == j {
        parts.remove(i);
    } else {
        parts.swap(i, j);
    }
    let mut out = bytes[..8].to_vec();
    out.extend(parts.concat());
    *bytes = out;
}

/// The byte ranges of the top-level sections (id, size, payload).
fn sections(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        pos += 1;
        let (mut size, mut shift) = (0usize, 0);
        loop {
            let Some(&b) = bytes.get(pos) else {
                return out;
            };
            pos += 1;
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        let Some(end) = pos.checked_add(size).filter(|&e| e <= bytes.len()) else {
            return out;
        };
        out.push(start..end);
        pos = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_cover_a_module() {
        let wasm = wat::parse_str("(module (memory 1) (func (export \"f\")))").unwrap();
        let s = sections(&wasm);
        assert!(s.len() >= 4);
        assert_eq!(s.last().unwrap().end, wasm.len());
    }

    #[test]
    fn mutations_change_the_module() {
        let wasm = wat::parse_str("(module (memory 1) (func (export \"f\")))").unwrap();
        let changed = (0..32)
            .filter(|&s| mutate(&mut Rng::new(s), wasm.clone()) != wasm)
            .count();
        assert!(changed > 24, "{changed}");
    }
}
