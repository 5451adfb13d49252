//! The order of a pivot's groups: costliest first, by a radix sort of
//! their costs (a pivot by two dimensions has tens of thousands of groups).

/// A cost as a key whose ascending order is the costs' descending order.
pub(super) fn cost_key(cost: i64) -> u64 {
    !((cost as u64) ^ (1 << 63))
}

/// Orders groups `(key, group)` by key, then each run of equal key by
/// `ties`: the key radix-sorted, which for a pivot by two dimensions' tens
/// of thousands of groups takes a fraction of a comparison sort's time
/// (issue 24).
pub(super) fn by_figures(
    order: &mut Vec<(u64, u32)>,
    mut ties: impl FnMut(u32, u32) -> std::cmp::Ordering,
) {
    radix_by_key(order);
    for run in order.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_by(|a, b| ties(a.1, b.1));
        }
    }
}

/// By key, keeping the order of equal keys: 11 bits at a time, over the
/// bits in which keys differ only (a pivot's costs share most of theirs).
fn radix_by_key(order: &mut Vec<(u64, u32)>) {
    const DIGIT: u32 = 11;
    let (all, any) = order
        .iter()
        .fold((u64::MAX, 0), |(all, any), (k, _)| (all & k, any | k));
    let differ = all ^ any;
    if differ == 0 {
        return;
    }
    let (low, high) = (differ.trailing_zeros(), 64 - differ.leading_zeros());
    let shifts: Vec<u32> = (low..high).step_by(DIGIT as usize).collect();
    let digit = |key: u64, shift: u32| (key >> shift) as usize & ((1 << DIGIT) - 1);
    // Every digit's counts in one pass over the keys.
    let mut counts = vec![[0u32; 1 << DIGIT]; shifts.len()];
    for (k, _) in order.iter() {
        for (c, shift) in counts.iter_mut().zip(&shifts) {
            c[digit(*k, *shift)] += 1;
        }
    }
    let mut buf = order.clone();
    for (counts, shift) in counts.iter_mut().zip(&shifts) {
        let mut at = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for e in order.iter() {
            let d = digit(e.0, *shift);
            buf[counts[d] as usize] = *e;
            counts[d] += 1;
        }
        std::mem::swap(order, &mut buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;

    proptest! {
        #[test]
        fn groups_are_ordered_as_by_comparison(costs in proptest::collection::vec((-3i64..3, any::<i64>(), -2i64..2), 0..300)) {
            // Few distinct costs and prices, so that ties are common; some extremes.
            let figures: Vec<(i64, i64)> = costs
                .iter()
                .map(|(c, big, p)| (if *c == 2 { *big } else { *c }, *p))
                .collect();
            let mut order: Vec<(u64, u32)> = figures
                .iter()
                .enumerate()
                .map(|(g, (cost, _))| (cost_key(*cost), g as u32))
                .collect();
            by_figures(&mut order, |a, b| {
                let price = |g: u32| figures[g as usize].1;
                price(b).cmp(&price(a)).then(a.cmp(&b))
            });
            let mut expected: Vec<u32> = (0..figures.len() as u32).collect();
            expected.sort_unstable_by_key(|g| {
                let (cost, price) = figures[*g as usize];
                (Reverse(cost), Reverse(price), *g)
            });
            prop_assert_eq!(order.iter().map(|(_, g)| *g).collect::<Vec<_>>(), expected);
        }
    }
}
