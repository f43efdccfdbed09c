//! Intrusive doubly-linked expiry queues over fixed link arrays.
//!
//! Every entry of a table with a timeout sits in exactly one queue, the one of its
//! timeout class. A queue is ordered by last activity: activity moves the entry to the
//! tail in O(1), so the head is always the entry that expires first, and expiry only
//! ever looks at heads. The cost of a timer tick is proportional to what expires, not to
//! what is alive.

use super::carve::{Carver, InitError};
use super::chain::NIL;

/// `N` queues over entries `0..capacity`.
pub struct Queues<'a, const N: usize> {
    prev: &'a mut [u32],
    next: &'a mut [u32],
    head: [u32; N],
    tail: [u32; N],
    len: [u32; N],
}

impl<'a, const N: usize> Queues<'a, N> {
    /// Carves the link arrays for `capacity` entries; all queues start empty.
    pub fn carve(c: &mut Carver<'a>, capacity: usize) -> Result<Self, InitError> {
        Ok(Queues {
            prev: c.take::<u32>(capacity)?,
            next: c.take::<u32>(capacity)?,
            head: [NIL; N],
            tail: [NIL; N],
            len: [0; N],
        })
    }

    /// Empties every queue.
    pub fn clear(&mut self) {
        self.head = [NIL; N];
        self.tail = [NIL; N];
        self.len = [0; N];
    }

    /// Appends `entry` (in no queue) to the tail of queue `q`.
    #[inline]
    pub fn push_tail(&mut self, q: usize, entry: u32) {
        let e = entry as usize;
        self.prev[e] = self.tail[q];
        self.next[e] = NIL;
        if self.tail[q] == NIL {
            self.head[q] = entry;
        } else {
            self.next[self.tail[q] as usize] = entry;
        }
        self.tail[q] = entry;
        self.len[q] += 1;
    }

    /// Unlinks `entry` from queue `q`, where it is.
    #[inline]
    pub fn remove(&mut self, q: usize, entry: u32) {
        let e = entry as usize;
        let (p, n) = (self.prev[e], self.next[e]);
        if p == NIL {
            self.head[q] = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail[q] = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.len[q] -= 1;
    }

    /// Moves `entry` from the queue `from` to the tail of queue `to` (possibly the same):
    /// the "touch" of an entry that just saw activity.
    #[inline]
    pub fn move_to_tail(&mut self, from: usize, to: usize, entry: u32) {
        if from == to && self.tail[to] == entry {
            return;
        }
        self.remove(from, entry);
        self.push_tail(to, entry);
    }

    /// The entry of queue `q` that expires first.
    #[inline]
    pub fn head(&self, q: usize) -> Option<u32> {
        if self.head[q] == NIL {
            None
        } else {
            Some(self.head[q])
        }
    }

    /// The entry after `entry` in its queue (towards the tail).
    pub fn after(&self, entry: u32) -> Option<u32> {
        let n = self.next[entry as usize];
        if n == NIL {
            None
        } else {
            Some(n)
        }
    }

    /// Entries in queue `q`.
    pub fn len(&self, q: usize) -> u32 {
        self.len[q]
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_region::Region;
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn queues_follow_a_model_under_random_moves() {
        let cap = 64usize;
        let mut region = Region::for_layout(|c| Queues::<3>::carve(c, cap).map(|_| ()));
        let mut c = region.carver();
        let mut q = Queues::<3>::carve(&mut c, cap).unwrap();
        let mut model: [VecDeque<u32>; 3] = Default::default();
        let mut place = vec![usize::MAX; cap];
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let e = ((x >> 33) % cap as u64) as u32;
            let to = ((x >> 20) % 3) as usize;
            let from = place[e as usize];
            if from == usize::MAX {
                q.push_tail(to, e);
                model[to].push_back(e);
                place[e as usize] = to;
            } else if (x >> 40) % 4 == 0 {
                q.remove(from, e);
                model[from].retain(|&v| v != e);
                place[e as usize] = usize::MAX;
            } else {
                q.move_to_tail(from, to, e);
                model[from].retain(|&v| v != e);
                model[to].push_back(e);
                place[e as usize] = to;
            }
            for k in 0..3 {
                assert_eq!(q.len(k) as usize, model[k].len());
                assert_eq!(q.head(k), model[k].front().copied());
            }
        }
        for k in 0..3 {
            let mut walked = Vec::new();
            let mut cur = q.head(k);
            while let Some(e) = cur {
                walked.push(e);
                cur = q.after(e);
            }
            assert_eq!(walked, model[k].iter().copied().collect::<Vec<_>>());
        }
    }
}
