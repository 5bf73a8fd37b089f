-- PostgreSQL's HMAC-SHA-256 (pg_hmac_*), as the extension calls it to sign
-- keyset cursors (src/pg/hmac_sha256.cpp), driven through the test-only module
-- chronicle_boundary_test: the RFC 4231 test vectors, and agreement with
-- RFC 2104's definition built from the server's sha256() at the lengths where
-- the key and the message straddle SHA-256's 64-byte block.
CREATE FUNCTION boundary_hmac_sha256(bytea, bytea) RETURNS bytea
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_hmac_sha256';

-- RFC 4231, section 4: test cases 1 to 7 (case 5 is truncated to 128 bits, as a
-- cursor's tag is).
SELECT rfc.test_case, boundary_hmac_sha256(rfc.key, rfc.data) = rfc.expected AS matches
  FROM (VALUES
    (1, decode(repeat('0b', 20), 'hex'), convert_to('Hi There', 'UTF8'),
        '\xb0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'::bytea),
    (2, convert_to('Jefe', 'UTF8'), convert_to('what do ya want for nothing?', 'UTF8'),
        '\x5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'),
    (3, decode(repeat('aa', 20), 'hex'), decode(repeat('dd', 50), 'hex'),
        '\x773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'),
    (4, '\x0102030405060708090a0b0c0d0e0f10111213141516171819', decode(repeat('cd', 50), 'hex'),
        '\x82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'),
    (6, decode(repeat('aa', 131), 'hex'), convert_to('Test Using Larger Than Block-Size Key - Hash Key First', 'UTF8'),
        '\x60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'),
    (7, decode(repeat('aa', 131), 'hex'),
        convert_to('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.', 'UTF8'),
        '\x9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2')
  ) AS rfc(test_case, key, data, expected)
UNION ALL
SELECT 5, substr(boundary_hmac_sha256(decode(repeat('0c', 20), 'hex'), convert_to('Test With Truncation', 'UTF8')), 1, 16)
          = '\xa3b6167473100ee06e0c796c2955552b'
ORDER BY 1;

-- A wrong expectation does not match (the comparison can fail).
SELECT boundary_hmac_sha256(convert_to('Jefe', 'UTF8'), convert_to('what do ya want for nothing!', 'UTF8'))
       = '\x5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' AS altered_message_matches;

-- RFC 2104: H((K' xor opad) || H((K' xor ipad) || m)), K' the key (hashed when
-- longer than 64 bytes) padded with zeros to 64 bytes.
CREATE FUNCTION pg_temp.xor_pad(k bytea, pad int) RETURNS bytea LANGUAGE sql AS $$
    SELECT string_agg(set_byte('\x00'::bytea, 0, (CASE WHEN i < length(k) THEN get_byte(k, i) ELSE 0 END) # pad), ''::bytea ORDER BY i)
      FROM generate_series(0, 63) AS i
$$;
CREATE FUNCTION pg_temp.hmac_by_definition(key bytea, message bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT sha256(pg_temp.xor_pad(k, 92) || sha256(pg_temp.xor_pad(k, 54) || message))
      FROM (SELECT CASE WHEN length(key) > 64 THEN sha256(key) ELSE key END AS k) AS shortened
$$;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE boundary_hmac_sha256(key, message) = pg_temp.hmac_by_definition(key, message)) AS agreeing
  FROM unnest(ARRAY[0, 1, 16, 32, 55, 56, 63, 64, 65, 127, 128, 129, 200]) AS key_length,
       unnest(ARRAY[0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) AS message_length,
       LATERAL (SELECT substr(decode(repeat(md5(key_length::text), 13), 'hex'), 1, key_length) AS key,
                       substr(decode(repeat(md5(message_length::text || 'm'), 63), 'hex'), 1, message_length) AS message) AS inputs;

-- NULL in, NULL out (STRICT); C++ objects alive during the calls were destroyed.
SELECT boundary_hmac_sha256(NULL, '\x00') IS NULL AS null_key_gives_null;
CREATE OR REPLACE FUNCTION boundary_live_objects() RETURNS bigint
    LANGUAGE C STRICT AS 'chronicle_boundary_test', 'boundary_live_objects';
SELECT boundary_live_objects() AS live_objects;
