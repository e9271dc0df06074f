// Produces UserSig / PrivateMapKey tickets with the official npm generator
// `tls-sig-api-v2` (a real third-party implementation) for auth_test, and
// checks tickets produced by Aegis with that library's own HMAC code.
//   node gen_official_tickets.js              -> JSON of fresh official tickets
//   node gen_official_tickets.js check SDKAPPID KEY TICKET
//                                             -> JSON of the decoded fields and
//                                                whether the library's HMAC agrees
'use strict';
const path = require('path');
const zlib = require('zlib');
const root = process.env.AEGIS_SOURCE_DIR || path.join(__dirname, '..', '..');
const TLSSigAPIv2 = require(path.join(root, 'node_modules', 'tls-sig-api-v2'));

const SDKAPPID = 1400000001;
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';

function decodeUserbuf(buf) {
  let o = 0;
  const out = {};
  out.version = buf.readUInt8(o); o += 1;
  const alen = buf.readUInt16BE(o); o += 2;
  out.account = buf.subarray(o, o + alen).toString('latin1'); o += alen;
  out.sdkappid = buf.readUInt32BE(o); o += 4;
  out.room_id = buf.readUInt32BE(o); o += 4;
  out.expire_at = buf.readUInt32BE(o); o += 4;
  out.privilege_map = buf.readUInt32BE(o); o += 4;
  out.account_type = buf.readUInt32BE(o); o += 4;
  if (out.version === 1) {
    const rlen = buf.readUInt16BE(o); o += 2;
    out.str_room_id = buf.subarray(o, o + rlen).toString('latin1'); o += rlen;
  }
  out.consumed_all = o === buf.length;
  return out;
}

function check(sdkappid, key, ticket) {
  const b64 = ticket.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  const doc = JSON.parse(zlib.inflateSync(Buffer.from(b64, 'base64')).toString());
  const api = new TLSSigAPIv2.Api(Number(sdkappid), key);
  // The library's own content builder and HMAC.
  const expected = api._hmacsha256(doc['TLS.identifier'], doc['TLS.time'], doc['TLS.expire'],
                                   doc['TLS.userbuf'] === undefined ? null : doc['TLS.userbuf']);
  const out = { doc, mac_ok: expected === doc['TLS.sig'] };
  if (doc['TLS.userbuf'] !== undefined) {
    out.userbuf = decodeUserbuf(Buffer.from(doc['TLS.userbuf'], 'base64'));
  }
  return out;
}

if (process.argv[2] === 'check') {
  process.stdout.write(JSON.stringify(check(process.argv[3], process.argv[4], process.argv[5])));
} else {
  const api = new TLSSigAPIv2.Api(SDKAPPID, KEY);
  const out = {
    sdkappid: SDKAPPID,
    key: KEY,
    generated_at: Math.floor(Date.now() / 1000),
    plain: { user_id: 'alice_01', expire: 86400, ticket: api.genUserSig('alice_01', 86400) },
    numeric_room: {
      user_id: 'bob-2', expire: 300, room_id: 1234, privilege_map: 255,
      ticket: api.genPrivateMapKey('bob-2', 300, 1234, 255),
    },
    string_room: {
      user_id: 'carol', expire: 600, str_room_id: 'room-A', privilege_map: 42,
      ticket: api.genPrivateMapKeyWithStringRoomID('carol', 600, 'room-A', 42),
    },
    short_expiry: { user_id: 'dave', expire: 5, ticket: api.genUserSig('dave', 5) },
    // A day-long ticket whose PrivateMapKey lasts 60 s, built from the
    // library's own userbuf and signing helpers.
    short_pmk: {
      user_id: 'erin', expire: 86400, room_id: 777, privilege_map: 255, pmk_expire: 60,
      ticket: api.genSig('erin', 86400, api._genUserbuf('erin', 777, 60, 255, 0, null)),
    },
  };
  process.stdout.write(JSON.stringify(out));
}
