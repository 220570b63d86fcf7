//! Small caches with a fixed number of entries (hashlink's LRU, the one sqlx uses), each
//! entry valid for a while: names change rarely, commits never, discussions often.

use hashlink::LruCache;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Cache<K: Hash + Eq, V: Clone> {
    entries: Mutex<LruCache<K, (V, Instant)>>,
    ttl: Duration,
}

impl<K: Hash + Eq, V: Clone> Cache<K, V> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Cache {
            entries: Mutex::new(LruCache::new(capacity)),
            ttl,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.entries.lock().expect("not poisoned");
        match entries.get(key) {
            Some((v, at)) if at.elapsed() < self.ttl => Some(v.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("not poisoned");
        entries.insert(key, (value, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_its_size_and_forgets_the_stale() {
        let c = Cache::new(2, Duration::from_secs(60));
        c.put(1, "a");
        c.put(2, "b");
        c.put(3, "c");
        assert_eq!(c.get(&1), None, "the least recent went");
        assert_eq!(c.get(&3), Some("c"));
        let stale = Cache::new(2, Duration::ZERO);
        stale.put(1, "a");
        assert_eq!(stale.get(&1), None);
    }
}
