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
    /// Each group's codes, one per dimension, the currency's last.
    pub codes: Vec<Vec<u32>>,
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
        self.codes.len()
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
                let next = self.codes.len() as u32;
                *slot = *map.entry(codes.clone()).or_insert_with(|| {
                    self.codes.push(codes);
                    next
                });
            }
            return;
        }
        keys.clear();
        keys.resize(slots.len(), 0);
        for (codes, radix) in columns.iter().zip(&self.radices) {
            for (key, code) in keys.iter_mut().zip(*codes) {
                *key = *key * radix + u64::from(*code);
            }
        }
        for (slot, key) in slots.iter_mut().zip(keys.iter()) {
            if *slot == SKIP {
                continue;
            }
            let found = match &mut self.index {
                Index::Dense(table) => &mut table[*key as usize],
                Index::Packed(map) => map.entry(*key).or_insert(SKIP),
                Index::Wide(_) => unreachable!("handled above"),
            };
            if *found == SKIP {
                *found = self.codes.len() as u32;
                self.codes.push(unpack(*key, &self.radices));
            }
            *slot = *found;
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

/// A packed key's codes, most significant first.
fn unpack(mut key: u64, radices: &[u64]) -> Vec<u32> {
    let mut codes = vec![0u32; radices.len()];
    for (code, radix) in codes.iter_mut().zip(radices).rev() {
        *code = (key % radix) as u32;
        key /= radix;
    }
    codes
}

/// The measures of each slot, each in an array of its own.
#[derive(Default)]
pub(super) struct Sums {
    partner_cost: Vec<i64>,
    customer_price: Vec<i64>,
    list_cost: Vec<i64>,
    quantity: Vec<i64>,
    lines: Vec<u64>,
}

/// One block's measures; an empty slice is a column the cube does not
/// carry (a customer's own cube has no partner figures), read as zero.
pub(super) struct Block<'a> {
    pub partner_cost: &'a [i64],
    pub customer_price: &'a [i64],
    pub list_cost: &'a [i64],
    pub quantity: &'a [i64],
    /// A summed cube's line count per row; a line item counts one.
    pub lines: Option<&'a [u32]>,
}

impl Sums {
    /// Room for `slots` slots.
    pub fn grow(&mut self, slots: usize) {
        if self.lines.len() < slots {
            for column in [
                &mut self.partner_cost,
                &mut self.customer_price,
                &mut self.list_cost,
                &mut self.quantity,
            ] {
                column.resize(slots, 0);
            }
            self.lines.resize(slots, 0);
        }
    }

    pub fn add(&mut self, slots: &[u32], block: &Block<'_>) {
        add(&mut self.partner_cost, slots, block.partner_cost);
        add(&mut self.customer_price, slots, block.customer_price);
        add(&mut self.list_cost, slots, block.list_cost);
        add(&mut self.quantity, slots, block.quantity);
        match block.lines {
            Some(lines) => {
                for (slot, n) in slots.iter().zip(lines) {
                    if *slot != SKIP {
                        self.lines[*slot as usize] += u64::from(*n);
                    }
                }
            }
            None => {
                for slot in slots {
                    if *slot != SKIP {
                        self.lines[*slot as usize] += 1;
                    }
                }
            }
        }
    }

    pub fn get(&self, slot: usize) -> Measures {
        Measures {
            partner_cost: self.partner_cost[slot],
            customer_price: self.customer_price[slot],
            list_cost: self.list_cost[slot],
            quantity: self.quantity[slot],
            lines: self.lines[slot],
        }
    }
}

fn add(sums: &mut [i64], slots: &[u32], values: &[i64]) {
    for (slot, value) in slots.iter().zip(values) {
        if *slot != SKIP {
            sums[*slot as usize] += value;
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
            assert_eq!(
                groups.codes,
                [vec![2, 1], vec![0, 1], vec![1, 0], vec![2, 0]]
            );
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
                customer_price: &[],
                list_cost: &[1, 1, 1],
                quantity: &[2, 2, 2],
                lines: Some(&[3, 9, 4]),
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
