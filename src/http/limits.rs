//! Allowances per key in a fixed window: so many messages a minute per
//! visitor, so many bytes an hour per shop. Kept in this process: behind a
//! load balancer each instance counts its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys one window may track before old ones are forgotten early.
const MAX_KEYS: usize = 100_000;

pub struct Window {
    limit: u64,
    every: Duration,
    counts: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Window {
    pub fn new(limit: u64, every: Duration) -> Window {
        Window {
            limit,
            every,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `key` may take again, if its allowance is used up.
    pub fn used_up(&self, key: &str) -> Option<u64> {
        let counts = self.counts.lock().ok()?;
        let (start, n) = counts.get(key)?;
        let elapsed = start.elapsed();
        (*n >= self.limit && elapsed < self.every)
            .then(|| self.every.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Takes `n` from `key`'s allowance, or says how many seconds until
    /// the window has room again.
    pub fn take(&self, key: &str, n: u64) -> Result<(), u64> {
        let Ok(mut counts) = self.counts.lock() else {
            return Ok(());
        };
        if counts.len() >= MAX_KEYS {
            let every = self.every;
            counts.retain(|_, (start, _)| start.elapsed() < every);
            if counts.len() >= MAX_KEYS {
                // Flooded with fresh keys: the oldest half goes.
                let mut starts: Vec<Instant> = counts.values().map(|(s, _)| *s).collect();
                starts.sort();
                let cut = starts[starts.len() / 2];
                counts.retain(|_, (start, _)| *start > cut);
            }
        }
        let now = Instant::now();
        let entry = counts.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.every {
            *entry = (now, 0);
        }
        if entry.1.saturating_add(n) > self.limit {
            let left = self.every.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_and_no_more_and_others_are_apart() {
        let w = Window::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(w.take("a", 1), Ok(()));
        }
        let wait = w.take("a", 1).expect_err("over");
        assert!((1..=60).contains(&wait));
        assert_eq!(w.take("b", 3), Ok(()));
        assert!(w.take("c", 4).is_err(), "more than the window at once");
        assert!(w.used_up("a").is_some() && w.used_up("b").is_some());
        assert_eq!(w.used_up("c"), None);
    }

    #[test]
    fn the_window_starts_again() {
        let w = Window::new(1, Duration::from_millis(30));
        assert_eq!(w.take("a", 1), Ok(()));
        assert!(w.take("a", 1).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(w.take("a", 1), Ok(()));
    }
}
