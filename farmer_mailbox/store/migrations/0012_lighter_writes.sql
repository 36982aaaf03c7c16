-- 0012: fewer pages written per inbound message (each index a new posting, match, notice or
-- number touches is one more page in the WAL at commit), and JG read from an index alone.
--
-- JG reads the product's recent prices in the user's city (both sides, one scan) from
-- postings_prices, which now carries every column the query needs (no table look-ups).
DROP INDEX postings_prices;
CREATE INDEX postings_prices ON postings(product, side, region_code, created_at, status, price, price_max,
                                         price_unit);

-- match_notices_day served no query the others do not (the daily cap reads match_notices_sent,
-- the digests match_notices_undigested and match_notices_digests); it cost a page per notice.
DROP INDEX match_notices_day;

-- postings_product_time served JG alone, which now reads postings_prices.
DROP INDEX postings_product_time;
