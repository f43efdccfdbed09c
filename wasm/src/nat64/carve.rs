//! Carving the typed arrays of the NAT64 tables out of one caller-provided byte region.
//!
//! Every table is sized once, at init, from [`super::Capacity`]; nothing is allocated
//! afterwards. The same carving code runs twice: once in *measuring* mode to learn how
//! many bytes the region needs, once over the real region, so the size computation and
//! the layout cannot disagree.

use core::marker::PhantomData;
use core::mem::{align_of, size_of};

/// Why the NAT64 state could not be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// The region does not start on an 8-byte boundary.
    StorageMisaligned,
    /// The region is smaller than [`super::Nat64::bytes_needed`] says.
    StorageTooSmall,
    /// A capacity is zero where at least one entry is required, or too large to index
    /// with 32 bits.
    BadCapacity,
    /// More (protocol, pool4 address) pairs than [`super::state::MAX_PORT_SETS`].
    TooManyPortSets,
}

/// Records the tables keep in carved arrays.
///
/// # Safety
/// Implementors are `Copy` types made only of integers and arrays of integers (usually
/// `#[repr(C)]` structs), so that every bit pattern is a valid value and a carved slice
/// over arbitrary bytes is sound before the table initialises it.
pub unsafe trait Plain: Copy {}

// SAFETY: integers accept every bit pattern.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for u16 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}

/// The largest alignment a [`Plain`] record may need; the region must start on it.
pub const REGION_ALIGN: usize = 8;

/// Hands out consecutive, aligned, non-overlapping typed slices of one region.
pub struct Carver<'a> {
    base: *mut u8,
    len: usize,
    used: usize,
    measuring: bool,
    _region: PhantomData<&'a mut [u8]>,
}

impl<'a> Carver<'a> {
    /// A carver over `region`, which must start on a [`REGION_ALIGN`] boundary.
    pub fn new(region: &'a mut [u8]) -> Result<Self, InitError> {
        if region.as_ptr() as usize % REGION_ALIGN != 0 {
            return Err(InitError::StorageMisaligned);
        }
        Ok(Carver {
            base: region.as_mut_ptr(),
            len: region.len(),
            used: 0,
            measuring: false,
            _region: PhantomData,
        })
    }

    /// A carver that only counts: every slice it returns is empty, [`Carver::used`] is
    /// the size a real region needs for the same sequence of takes.
    pub fn measuring() -> Carver<'static> {
        Carver {
            base: core::ptr::null_mut(),
            len: usize::MAX,
            used: 0,
            measuring: true,
            _region: PhantomData,
        }
    }

    /// The next `count` records of type `T`.
    pub fn take<T: Plain>(&mut self, count: usize) -> Result<&'a mut [T], InitError> {
        let align = align_of::<T>();
        if align > REGION_ALIGN {
            return Err(InitError::BadCapacity);
        }
        let start = self
            .used
            .checked_add(align - 1)
            .ok_or(InitError::BadCapacity)?
            / align
            * align;
        let bytes = count
            .checked_mul(size_of::<T>())
            .ok_or(InitError::BadCapacity)?;
        let end = start.checked_add(bytes).ok_or(InitError::BadCapacity)?;
        if end > self.len {
            return Err(InitError::StorageTooSmall);
        }
        self.used = end;
        if self.measuring {
            return Ok(Default::default());
        }
        // SAFETY: `start..end` lies inside the region this carver borrows for 'a, no
        // earlier take overlaps it because `used` only grows, the address is aligned for
        // `T` because the region starts on REGION_ALIGN and `start` is a multiple of
        // `align`, and `T: Plain` accepts whatever bytes are there.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.base.add(start) as *mut T, count) })
    }

    /// Bytes handed out so far, alignment padding included.
    pub fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measuring_and_real_carving_agree() {
        let mut m = Carver::measuring();
        m.take::<u8>(3).unwrap();
        m.take::<u64>(2).unwrap();
        m.take::<u16>(5).unwrap();
        let need = m.used();
        assert_eq!(need, 8 + 16 + 10);

        let mut backing = vec![0u64; (need + 7) / 8];
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(backing.as_mut_ptr() as *mut u8, need)
        };
        let mut c = Carver::new(bytes).unwrap();
        let a = c.take::<u8>(3).unwrap();
        let b = c.take::<u64>(2).unwrap();
        let d = c.take::<u16>(5).unwrap();
        a.fill(1);
        b.fill(u64::MAX);
        d.fill(7);
        assert_eq!(c.used(), need);
        assert_eq!(b.as_ptr() as usize % 8, 0);
        assert_eq!(c.take::<u8>(1), Err(InitError::StorageTooSmall));
    }

    #[test]
    fn misaligned_region_is_refused() {
        let mut backing = vec![0u64; 4];
        let bytes = unsafe {
            core::slice::from_raw_parts_mut((backing.as_mut_ptr() as *mut u8).add(1), 16)
        };
        assert!(matches!(Carver::new(bytes), Err(InitError::StorageMisaligned)));
    }
}
