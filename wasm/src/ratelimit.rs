//! Rate limit of the ICMP errors the translator originates: RFC 4443 §2.4(f) says an
//! IPv6 node MUST limit them and suggests a token bucket; RFC 1812 §4.3.2.8 asks the
//! same of IPv4 routers. One bucket serves both families. Time is the host's clock.

/// Most errors the bucket lets through back to back (Linux's `icmp_msgs_burst`).
pub const BURST: f64 = 50.0;

/// A token bucket refilled at `rate` tokens per second, holding at most
/// `min(rate, BURST)` tokens. All-zero is a valid new bucket, full on first use.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    tokens: f64,
    last_ms: f64,
    primed: bool,
}

impl TokenBucket {
    /// A bucket that fills up on first use.
    pub const fn new() -> Self {
        TokenBucket { tokens: 0.0, last_ms: 0.0, primed: false }
    }

    /// Takes one token at time `now_ms` for a refill rate of `rate` per second;
    /// false when none is left. A rate of 0 never lets anything through.
    pub fn take(&mut self, now_ms: f64, rate: u32) -> bool {
        if rate == 0 {
            return false;
        }
        let capacity = (rate as f64).min(BURST);
        if !self.primed {
            self.primed = true;
            self.tokens = capacity;
            self.last_ms = now_ms;
        }
        if now_ms > self.last_ms {
            self.tokens = (self.tokens + (now_ms - self.last_ms) * rate as f64 / 1000.0).min(capacity);
            self.last_ms = now_ms;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let mut b = TokenBucket::new();
        let sent = (0..100).filter(|_| b.take(1000.0, 1000)).count();
        assert_eq!(sent, 50);
        assert!(!b.take(1000.0, 1000));
        assert!(b.take(1001.0, 1000), "one token per millisecond at 1000/s");
        assert!(!b.take(1001.0, 1000));
        let sent = (0..100).filter(|_| b.take(1011.5, 1000)).count();
        assert_eq!(sent, 10);
    }

    #[test]
    fn slow_rates_and_zero() {
        let mut b = TokenBucket::new();
        assert!(b.take(0.0, 1));
        assert!(!b.take(500.0, 1));
        assert!(b.take(1000.0, 1));
        assert!(!b.take(1000.0, 0));
        assert!(!b.take(900.0, 1), "a clock that goes back adds nothing");
    }
}
