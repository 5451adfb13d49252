//! The pivot's inner loops. Rows are taken a block at a time, and each step
//! is one tight loop over one column's slice of the block: the group keys
//! packed into integers, the rows the filters leave out marked, the keys
//! turned into group slots, then each measure added into its own array.
//! Nothing is allocated per row, and each loop is simple enough for the
//! compiler to drop its bounds checks and keep its state in registers.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::Measures;

/// Rows per block: the block's keys stay in the fastest cache.
pub(super) const BLOCK: usize = 4096;

/// A row that the day range or a filter leaves out.
pub(super) const SKIP: u32 = u32::MAX;

/// Packed keys up to this many index a table directly; more go to a map.
const DENSE_KEYS: u64 = 1 << 20;

/// The group a key belongs to: its slot in the sums, assigned in order of
/// first appearance.
pub(super) struct Groups {
    /// Each dimension's number of values, the currency's last.
    radices: Vec<u64>,
    index: Index,
    /// Each group's codes side by side, one per dimension, the currency's
    /// last (one array: a large pivot has tens of thousands of groups).
    codes: Vec<u32>,
}

enum Index {
    /// Slot by packed key (`SKIP` where none yet).
    Dense(Vec<u32>),
    /// Slot by packed key, for a key space too large for a table.
    Packed(HashMap<u64, u32, BuildHasherDefault<Folded>>),
    /// Slot by the codes themselves, when a packed key overflows 64 bits.
    Wide(HashMap<Vec<u32>, u32>),
}

impl Groups {
    pub fn new(radices: Vec<u64>) -> Groups {
        let space = radices.iter().try_fold(1u64, |acc, r| acc.checked_mul(*r));
        let index = match space {
            Some(n) if n <= DENSE_KEYS => Index::Dense(vec![SKIP; n as usize]),
            Some(_) => Index::Packed(HashMap::default()),
            None => Index::Wide(HashMap::new()),
        };
        Groups {
            radices,
            index,
            codes: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.codes.len() / self.radices.len()
    }

    /// A group's codes, one per dimension, the currency's last.
    pub fn codes(&self, group: usize) -> &[u32] {
        let width = self.radices.len();
        &self.codes[group * width..(group + 1) * width]
    }

    /// How many groups there can be at most, when that is known small.
    pub fn most(&self) -> Option<usize> {
        match &self.index {
            Index::Dense(table) => Some(table.len()),
            _ => None,
        }
    }

    /// Turns the block's rows into group slots in `slots` (`SKIP` stays):
    /// `columns` are the block's codes per dimension, the currency's last.
    pub fn assign(&mut self, columns: &[&[u32]], slots: &mut [u32], keys: &mut Vec<u64>) {
        if let Index::Wide(map) = &mut self.index {
            for (row, slot) in slots.iter_mut().enumerate() {
                if *slot == SKIP {
                    continue;
                }
                let codes: Vec<u32> = columns.iter().map(|c| c[row]).collect();
                let next = (self.codes.len() / columns.len()) as u32;
                *slot = *map.entry(codes).or_insert_with_key(|codes| {
                    self.codes.extend_from_slice(codes);
                    next
                });
            }
            return;
        }
        // A dimension of one value (most often the currency) adds nothing
        // to a key: its code is 0 and its radix 1.
        let varying: Vec<(&[u32], u64)> = columns
            .iter()
            .zip(&self.radices)
            .filter(|(_, radix)| **radix > 1)
            .map(|(codes, radix)| (*codes, *radix))
            .collect();
        match varying.as_slice() {
            // One dimension: its code is the key.
            [(codes, _)] => self.find(slots, codes.iter().map(|c| u64::from(*c))),
            _ => {
                keys.clear();
                keys.resize(slots.len(), 0);
                for (codes, radix) in &varying {
                    for (key, code) in keys.iter_mut().zip(*codes) {
                        *key = *key * radix + u64::from(*code);
                    }
                }
                self.find(slots, keys.iter().copied())
            }
        }
    }

    /// Each row's group by its packed key, a new group for a key not seen.
    fn find(&mut self, slots: &mut [u32], keys: impl Iterator<Item = u64>) {
        let (codes, radices) = (&mut self.codes, &self.radices);
        let mut found = |entry: &mut u32, key: u64| {
            if *entry == SKIP {
                *entry = (codes.len() / radices.len()) as u32;
                unpack(key, radices, codes);
            }
            *entry
        };
        match &mut self.index {
            Index::Dense(table) => {
                for (slot, key) in slots.iter_mut().zip(keys) {
                    if *slot != SKIP {
                        *slot = found(&mut table[key as usize], key);
                    }
                }
            }
            Index::Packed(map) => {
                for (slot, key) in slots.iter_mut().zip(keys) {
                    if *slot != SKIP {
                        *slot = found(map.entry(key).or_insert(SKIP), key);
                    }
                }
            }
            Index::Wide(_) => unreachable!("handled in assign"),
        }
    }
}

/// The hash of a packed key: one folded multiply. The keys are our own
/// codes, not input an attacker picks, and the default SipHash cost more
/// than the rest of a row's work.
#[derive(Default)]
pub(super) struct Folded(u64);

impl Hasher for Folded {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b) ^ self.0.rotate_left(8));
        }
    }

    fn write_u64(&mut self, key: u64) {
        let product = u128::from(key ^ self.0) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (product as u64) ^ (product >> 64) as u64;
    }
}

/// Appends a packed key's codes to `codes`, most significant first.
fn unpack(mut key: u64, radices: &[u64], codes: &mut Vec<u32>) {
    let start = codes.len();
    codes.resize(start + radices.len(), 0);
    for (code, radix) in codes[start..].iter_mut().zip(radices).rev() {
        *code = (key % radix) as u32;
        key /= radix;
    }
}

/// The measures of each slot side by side, so that a row's five additions
/// touch one place: partner cost, customer price, list cost, quantity and
/// the line count.
#[derive(Default)]
pub(super) struct Sums(Vec<[i64; 5]>);

/// One block's measures, each of the block's length. A column the cube
/// does not carry (a customer's own cube has no partner figures) is given
/// as zeros, and a line item's count as ones.
pub(super) struct Block<'a> {
    pub partner_cost: &'a [i64],
    pub customer_price: &'a [i64],
    pub list_cost: &'a [i64],
    pub quantity: &'a [i64],
    /// A summed cube's line count per row.
    pub lines: &'a [u32],
}

impl Sums {
    /// Room for `slots` slots.
    pub fn grow(&mut self, slots: usize) {
        if self.0.is_empty() {
            // A zeroed allocation: one fill (or none, fresh from the
            // allocator), where `resize` writes slot by slot (12 ms for a
            // large partner's day-by-day series in the browser).
            self.0 = vec![[0; 5]; slots];
        } else if self.0.len() < slots {
            self.0.resize(slots, [0; 5]);
        }
    }

    /// Adds each row of the block into its slot (a `SKIP` row nowhere).
    pub fn add(&mut self, slots: &[u32], block: &Block<'_>) {
        let n = slots.len();
        // Slices of the same length let the compiler drop the bounds checks.
        let (pc, cp, lc, q, lines) = (
            &block.partner_cost[..n],
            &block.customer_price[..n],
            &block.list_cost[..n],
            &block.quantity[..n],
            &block.lines[..n],
        );
        for i in 0..n {
            if slots[i] == SKIP {
                continue;
            }
            let sum = &mut self.0[slots[i] as usize];
            sum[0] += pc[i];
            sum[1] += cp[i];
            sum[2] += lc[i];
            sum[3] += q[i];
            sum[4] += i64::from(lines[i]);
        }
    }

    pub fn get(&self, slot: usize) -> Measures {
        let [partner_cost, customer_price, list_cost, quantity, lines] = self.0[slot];
        Measures {
            partner_cost,
            customer_price,
            list_cost,
            quantity,
            lines: lines as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots_of(groups: &mut Groups, columns: &[&[u32]]) -> Vec<u32> {
        let mut slots = vec![0; columns[0].len()];
        groups.assign(columns, &mut slots, &mut Vec::new());
        slots
    }

    #[test]
    fn every_index_gives_the_same_groups_in_order_of_first_appearance() {
        let a: &[u32] = &[2, 0, 2, 1, 0, 2];
        let b: &[u32] = &[1, 1, 1, 0, 1, 0];
        for radices in [vec![3, 2], vec![3 << 20, 2], vec![u64::MAX / 2, 4]] {
            let mut groups = Groups::new(radices);
            assert_eq!(slots_of(&mut groups, &[a, b]), [0, 1, 0, 2, 1, 3]);
            let codes: Vec<&[u32]> = (0..groups.len()).map(|g| groups.codes(g)).collect();
            assert_eq!(codes, [[2, 1], [0, 1], [1, 0], [2, 0]]);
            // A later block continues the same numbering.
            assert_eq!(slots_of(&mut groups, &[&[1, 0], &[0, 0]]), [2, 4]);
        }
    }

    #[test]
    fn skipped_rows_get_no_group_and_add_nothing() {
        let mut groups = Groups::new(vec![4, 1]);
        let mut slots = vec![0, SKIP, 0];
        groups.assign(&[&[3, 2, 3], &[0, 0, 0]], &mut slots, &mut Vec::new());
        assert_eq!(slots, [0, SKIP, 0]);
        let mut sums = Sums::default();
        sums.grow(groups.len());
        sums.add(
            &slots,
            &Block {
                partner_cost: &[5, 7, 11],
                customer_price: &[0, 0, 0],
                list_cost: &[1, 1, 1],
                quantity: &[2, 2, 2],
                lines: &[3, 9, 4],
            },
        );
        let m = sums.get(0);
        assert_eq!(
            (
                m.partner_cost,
                m.customer_price,
                m.list_cost,
                m.quantity,
                m.lines
            ),
            (16, 0, 2, 4, 7)
        );
    }
}
