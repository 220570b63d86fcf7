-- A delivery that serves no subscription (`/herald test` in a channel nothing follows
-- yet) was stored with subscription 0; it is NULL now, like any unknown.
UPDATE deliveries SET subscription_id = NULL WHERE subscription_id = 0;
