//! The pivot's inner loops. Rows are taken a block at a time, and each step
//! is one tight loop over one column's slice of the block: the group keys
//! packed into integers, the rows the filters leave out marked, the keys
//! turned into group slots, then each measure added into its own array.
//! Nothing is allocated per row, and each loop is simple enough for the
//! compiler to drop its bounds checks and keep its state in registers.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use super::Measures;

/// Rows per block: the block's keys stay in the fastest cache.
pub(super) const BLOCK: usize = 4096;

/// A row that the day range or a filter leaves out.
pub(super) const SKIP: u32 = u32::MAX;

/// Packed keys up to this many index a table directly; more go to a map.
const DENSE_KEYS: u64 = 1 << 20;

/// The group a key belongs to: its slot in the sums. In a small key space
/// the packed key is the slot itself; otherwise slots are assigned in order
/// of first appearance.
pub(super) struct Groups {
    /// Each dimension's number of values, the currency's last.
    radices: Vec<u64>,
    index: Index,
    /// Each group's codes side by side, one per dimension, the currency's
    /// last (one array: a large pivot has tens of thousands of groups).
    /// Empty for a direct index, whose slot spells its codes.
    codes: Vec<u32>,
    /// For a direct index: each dimension's place value in a key, and its
    /// number of values (a row's codes are found by dividing by them).
    strides: Vec<(Divisor, Divisor)>,
}

enum Index {
    /// The packed key is the slot, for a key space of at most `slots`: no
    /// lookup per row and no table, but a slot for every key, so a slot
    /// no row reached is no group (see [`Sums::is_empty`]).
    Direct { slots: usize },
    /// Slot by packed key (`SKIP` where none yet).
    Dense(Vec<u32>),
    /// Slot by packed key, for a key space too large for a table.
    Packed(HashMap<u64, u32, BuildHasherDefault<Folded>>),
    /// Slot by the codes themselves, when a packed key overflows 64 bits.
    Wide(HashMap<Vec<u32>, u32>),
}

impl Groups {
    /// Groups over dimensions of `radices` values; a key space of at most
    /// `direct` keys (and below 2^20, where [`Divisor`] holds) is indexed
    /// directly.
    pub fn new(radices: Vec<u64>, direct: usize) -> Groups {
        let space = radices.iter().try_fold(1u64, |acc, r| acc.checked_mul(*r));
        let index = match space {
            Some(n) if n <= direct as u64 && n < 1 << 20 => Index::Direct { slots: n as usize },
            Some(n) if n <= DENSE_KEYS => Index::Dense(vec![SKIP; n as usize]),
            Some(_) => Index::Packed(HashMap::default()),
            None => Index::Wide(HashMap::new()),
        };
        let strides = match index {
            Index::Direct { .. } => (0..radices.len())
                .map(|d| {
                    let stride = radices[d + 1..].iter().product::<u64>();
                    (Divisor::new(stride as u32), Divisor::new(radices[d] as u32))
                })
                .collect(),
            _ => Vec::new(),
        };
        Groups {
            radices,
            index,
            codes: Vec::new(),
            strides,
        }
    }

    /// The number of slots: every group's, and for a direct index also
    /// the keys no row has.
    pub fn len(&self) -> usize {
        match self.index {
            Index::Direct { slots } => slots,
            _ => self.codes.len() / self.radices.len(),
        }
    }

    /// Whether a slot may be no group (a direct index's).
    pub fn is_direct(&self) -> bool {
        matches!(self.index, Index::Direct { .. })
    }

    /// A group's code of dimension `dim` (the currency's is the last).
    #[inline]
    pub fn code(&self, group: usize, dim: usize) -> u32 {
        match self.index {
            // A direct index's key space fits in 32 bits; a dimension of
            // one value (most often the currency) costs no division.
            Index::Direct { .. } => match self.radices[dim] {
                1 => 0,
                _ => {
                    let (stride, radix) = self.strides[dim];
                    let above = stride.divide(group as u32);
                    above - radix.divide(above) * radix.0
                }
            },
            _ => self.codes[group * self.radices.len() + dim],
        }
    }

    /// How many groups there can be at most, when that is known small.
    pub fn most(&self) -> Option<usize> {
        match &self.index {
            Index::Direct { slots } => Some(*slots),
            Index::Dense(table) => Some(table.len()),
            _ => None,
        }
    }

    /// A block's slots when they are the block's codes of one dimension, as
    /// they are for a direct index over one dimension of more than one
    /// value (the others' codes are all 0): no copy of them to make.
    pub fn as_slots<'a>(&self, columns: &[&'a [u32]]) -> Option<&'a [u32]> {
        match self.varying(columns).as_slice() {
            [(codes, _)] if self.is_direct() => Some(codes),
            _ => None,
        }
    }

    /// Writes a block's slots into `slots` when no row is left out and the
    /// index is direct over two dimensions of more than one value: one
    /// step, with no mark to keep. False for any other index.
    pub fn pack(&self, columns: &[&[u32]], slots: &mut Vec<u32>) -> bool {
        let [(first, _), (second, radix)] = self.varying(columns)[..] else {
            return false;
        };
        if !self.is_direct() {
            return false;
        }
        let radix = radix as u32;
        slots.clear();
        slots.extend(first.iter().zip(second).map(|(a, b)| a * radix + b));
        true
    }

    /// The block's codes of the dimensions of more than one value, with
    /// their radices: a dimension of one value (most often the currency)
    /// adds nothing to a key, its code being 0 and its radix 1.
    fn varying<'a>(&self, columns: &[&'a [u32]]) -> SmallVec<[(&'a [u32], u64); 4]> {
        columns
            .iter()
            .zip(&self.radices)
            .filter(|(_, radix)| **radix > 1)
            .map(|(codes, radix)| (*codes, *radix))
            .collect()
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
        let varying = self.varying(columns);
        match varying.as_slice() {
            // One dimension: its code is the key.
            [(codes, _)] => self.find(slots, codes.iter().map(|c| u64::from(*c))),
            // Two into a direct index: the slot in one step, in 32 bits.
            [(first, _), (second, radix)] if self.is_direct() => {
                let (n, radix) = (slots.len(), *radix as u32);
                let (first, second) = (&first[..n], &second[..n]);
                for i in 0..n {
                    if slots[i] != SKIP {
                        slots[i] = first[i] * radix + second[i];
                    }
                }
            }
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
            Index::Direct { .. } => {
                for (slot, key) in slots.iter_mut().zip(keys) {
                    if *slot != SKIP {
                        *slot = key as u32;
                    }
                }
            }
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

/// Division by a number fixed in advance, as a multiplication: a pivot's
/// rows divide each group's key once per dimension, and a division costs
/// many times a multiplication.
#[derive(Clone, Copy)]
pub(super) struct Divisor(u32, u64);

impl Divisor {
    /// For divisors and dividends below 2^20: `n * (2^40 / d rounded up)`
    /// exceeds `n / d` by less than `n / 2^40`, too little to reach the
    /// next whole quotient.
    pub fn new(d: u32) -> Divisor {
        assert!(d > 0 && d < 1 << 20);
        Divisor(d, (1u64 << 40).div_ceil(u64::from(d)))
    }

    #[inline]
    pub fn divide(self, n: u32) -> u32 {
        debug_assert!(n < 1 << 20);
        ((u64::from(n) * self.1) >> 40) as u32
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
/// as zeros.
pub(super) struct Block<'a> {
    pub partner_cost: &'a [i64],
    pub customer_price: &'a [i64],
    pub list_cost: &'a [i64],
    pub quantity: &'a [i64],
    /// A summed cube's line count per row; a line item is one line.
    pub lines: Option<&'a [u32]>,
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
        match block.lines {
            Some(lines) => {
                let lines = &lines[..slots.len()];
                self.add_with(slots, block, |i| i64::from(lines[i]))
            }
            None => self.add_with(slots, block, |_| 1),
        }
    }

    #[inline(always)]
    fn add_with(&mut self, slots: &[u32], block: &Block<'_>, lines: impl Fn(usize) -> i64) {
        let n = slots.len();
        // Slices of the same length let the compiler drop the bounds checks.
        let (pc, cp, lc, q) = (
            &block.partner_cost[..n],
            &block.customer_price[..n],
            &block.list_cost[..n],
            &block.quantity[..n],
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
            sum[4] += lines(i);
        }
    }

    /// Whether no row was added into the slot. A row adds at least one line,
    /// or a summed row its count (zero only in a malformed cube, where such
    /// a row adds nothing a total could show).
    #[inline]
    pub fn is_empty(&self, slot: usize) -> bool {
        self.0[slot] == [0; 5]
    }

    #[inline]
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
            let mut groups = Groups::new(radices, 0);
            assert_eq!(slots_of(&mut groups, &[a, b]), [0, 1, 0, 2, 1, 3]);
            assert_eq!(codes_of(&groups), [[2, 1], [0, 1], [1, 0], [2, 0]]);
            // A later block continues the same numbering.
            assert_eq!(slots_of(&mut groups, &[&[1, 0], &[0, 0]]), [2, 4]);
        }
    }

    fn codes_of(groups: &Groups) -> Vec<[u32; 2]> {
        (0..groups.len())
            .map(|g| [groups.code(g, 0), groups.code(g, 1)])
            .collect()
    }

    #[test]
    fn a_small_key_space_is_its_own_slots() {
        let a: &[u32] = &[2, 0, 2, 1, 0, 2];
        let b: &[u32] = &[1, 1, 1, 0, 1, 0];
        // Up to the limit given, and not beyond it.
        assert!(!Groups::new(vec![3, 2], 5).is_direct());
        let mut groups = Groups::new(vec![3, 2], 6);
        assert!(groups.is_direct());
        assert_eq!(slots_of(&mut groups, &[a, b]), [5, 1, 5, 2, 1, 4]);
        assert_eq!(groups.len(), 6);
        assert_eq!(
            codes_of(&groups),
            [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]
        );
        let mut slots = vec![0, SKIP];
        groups.assign(&[&[1, 2], &[1, 1]], &mut slots, &mut Vec::new());
        assert_eq!(slots, [3, SKIP]);
        // A dimension of one value is code 0, the others still found.
        let groups = Groups::new(vec![4, 1, 3], 12);
        assert_eq!(
            (groups.code(7, 0), groups.code(7, 1), groups.code(7, 2)),
            (2, 0, 1)
        );
    }

    #[test]
    fn a_divisor_divides_as_division_does() {
        for d in [1, 2, 3, 7, 12, 5_000, 65_535, 99_991, (1 << 20) - 1] {
            let divisor = Divisor::new(d);
            // Around every multiple of d near the ends of the range, and a spread between.
            let near = |q: u32| (q * d).saturating_sub(1)..=(q * d + 1).min((1 << 20) - 1);
            let tops = ((1 << 20) - 1) / d;
            for n in (0..3)
                .chain(tops.saturating_sub(2)..=tops)
                .flat_map(near)
                .chain((0..1 << 20).step_by(997))
            {
                assert_eq!(divisor.divide(n), n / d, "{n} / {d}");
            }
        }
    }

    #[test]
    fn skipped_rows_get_no_group_and_add_nothing() {
        let mut groups = Groups::new(vec![4, 1], 0);
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
                lines: Some(&[3, 9, 4]),
            },
        );
        assert!(!sums.is_empty(0));
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
