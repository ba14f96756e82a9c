//! Unit ids found by number: every key once, end to end in one byte arena,
//! behind a table of 32-bit key numbers. A million ids cost tens of bytes
//! each rather than a `String` and a map entry apiece, and recording one
//! copies its bytes instead of allocating.
//!
//! The data reader records `(period, id)` to find a unit read twice; an
//! evaluation's period finds a unit's position by id.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// The most bytes of keys one table holds (4 GiB, hundreds of millions of
/// units), so that the arena's offsets fit in 32 bits.
pub const LIMIT_KEY_BYTES: usize = u32::MAX as usize;

/// Keys by number. Hashing is foldhash, seeded per table: the keys are the
/// data's.
#[derive(Clone, Default)]
pub struct KeyTable {
    table: HashTable<u32>,
    keys: Keys,
}

/// The keys of a [`KeyTable`], end to end, and how they hash.
#[derive(Clone, Default)]
struct Keys {
    hasher: DefaultHashBuilder,
    arena: Vec<u8>,
    /// Where each key starts in the arena (it ends where the next starts).
    starts: Vec<u32>,
}

impl Keys {
    /// Key number `k`'s bytes.
    fn get(&self, k: u32) -> &[u8] {
        let k = k as usize;
        let start = self.starts.get(k).map(|&s| s as usize).unwrap_or(0);
        let end = self
            .starts
            .get(k + 1)
            .map(|&s| s as usize)
            .unwrap_or(self.arena.len());
        self.arena.get(start..end).unwrap_or_default()
    }
    /// Key number `k`'s hash.
    fn hash(&self, k: u32) -> u64 {
        self.hasher.hash_one(self.get(k))
    }
}

impl std::fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("keys", &self.keys.starts.len())
            .field("bytes", &self.keys.arena.len())
            .finish()
    }
}

/// A key did not fit: the table holds [`LIMIT_KEY_BYTES`] already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl KeyTable {
    /// A table with room for `keys` keys of about `key_len` bytes.
    pub fn with_capacity(keys: usize, key_len: usize) -> Self {
        let mut t = KeyTable::default();
        t.reserve(keys, key_len);
        t
    }

    /// How many keys the table holds.
    pub fn len(&self) -> usize {
        self.keys.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.starts.is_empty()
    }

    /// The average key length so far.
    pub fn key_len(&self) -> usize {
        self.keys.arena.len() / self.keys.starts.len().max(1) + 1
    }

    /// Make room for `more` keys of about `key_len` bytes at once: a large
    /// file's table then grows once instead of doubling (each doubling
    /// holds the old and the new table at once).
    pub fn reserve(&mut self, more: usize, key_len: usize) {
        self.table.reserve(more, |&j| self.keys.hash(j));
        self.keys.arena.reserve(more.saturating_mul(key_len));
        self.keys.starts.reserve(more);
    }

    /// The number of `key`, if the table holds it.
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        let h = self.keys.hasher.hash_one(key);
        self.table.find(h, |&k| self.keys.get(k) == key).copied()
    }

    /// The number of `key`, and whether it is new: a new key gets the next
    /// number (the count of keys before it).
    pub fn insert(&mut self, key: &[u8]) -> Result<(u32, bool), Full> {
        let h = self.keys.hasher.hash_one(key);
        if let Some(&k) = self.table.find(h, |&k| self.keys.get(k) == key) {
            return Ok((k, false));
        }
        let keys = &mut self.keys;
        let (Ok(k), Ok(start)) = (
            u32::try_from(keys.starts.len()),
            u32::try_from(keys.arena.len()),
        ) else {
            return Err(Full);
        };
        if keys.arena.len().saturating_add(key.len()) > LIMIT_KEY_BYTES {
            return Err(Full);
        }
        keys.starts.push(start);
        keys.arena.extend_from_slice(key);
        self.table.insert_unique(h, k, |&j| self.keys.hash(j));
        Ok((k, true))
    }
}

/// The units of one period by id: each id's position among the period's
/// rows (the last, if an id is given twice).
#[derive(Debug, Clone, Default)]
pub struct UnitIndex {
    keys: KeyTable,
    /// Position by key number.
    pos: Vec<usize>,
}

impl UnitIndex {
    /// An index with room for `units` ids of about `key_len` bytes.
    pub fn with_capacity(units: usize, key_len: usize) -> Self {
        UnitIndex {
            keys: KeyTable::with_capacity(units, key_len),
            pos: Vec::with_capacity(units),
        }
    }

    /// Record that unit `id` is at position `at`.
    pub fn insert(&mut self, id: &str, at: usize) -> Result<(), Full> {
        let (k, new) = self.keys.insert(id.as_bytes())?;
        if new {
            self.pos.push(at);
        } else if let Some(p) = self.pos.get_mut(k as usize) {
            *p = at;
        }
        Ok(())
    }

    /// The position of unit `id`.
    pub fn get(&self, id: &str) -> Option<usize> {
        let k = self.keys.find(id.as_bytes())?;
        self.pos.get(k as usize).copied()
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.keys.find(id.as_bytes()).is_some()
    }

    /// How many distinct ids the index holds.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_numbered_in_order_and_found_again() {
        let mut t = KeyTable::default();
        assert_eq!(t.insert(b"ha_noi"), Ok((0, true)));
        assert_eq!(t.insert(b"bac_giang"), Ok((1, true)));
        assert_eq!(t.insert(b""), Ok((2, true)));
        assert_eq!(t.insert(b"ha_noi"), Ok((0, false)));
        assert_eq!(t.find(b"bac_giang"), Some(1));
        assert_eq!(t.find(b""), Some(2));
        assert_eq!(t.find(b"bac"), None);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn many_keys_survive_growth() {
        let mut t = KeyTable::with_capacity(4, 2);
        for i in 0..10_000u32 {
            assert_eq!(t.insert(format!("xã {i}").as_bytes()), Ok((i, true)));
        }
        for i in (0..10_000u32).rev() {
            assert_eq!(t.find(format!("xã {i}").as_bytes()), Some(i));
        }
    }

    #[test]
    fn a_repeated_id_keeps_its_last_position() {
        let mut ix = UnitIndex::with_capacity(3, 8);
        assert_eq!(ix.insert("a", 0), Ok(()));
        assert_eq!(ix.insert("b", 1), Ok(()));
        assert_eq!(ix.insert("a", 2), Ok(()));
        assert_eq!(ix.get("a"), Some(2));
        assert_eq!(ix.get("b"), Some(1));
        assert_eq!(ix.get("c"), None);
        assert!(ix.contains_key("b"));
        assert_eq!(ix.len(), 2);
    }
}
