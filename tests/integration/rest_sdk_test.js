// REST API against a running aegisd with the official tencentcloud-sdk-nodejs
// TRTC client (R7: existing server SDKs work by changing only the endpoint),
// plus raw requests signed here (own TC3-HMAC-SHA256 signer) for the error
// paths an SDK cannot produce: malformed JSON, unknown parameters, expired
// timestamps, wrong version or action.
//
// Also the transport errors answered before the API layer (404, 405, 413,
// 431), which keep their HTTP status but use the same error envelope.
//
// Environment: AEGIS_ADDR (host:port), AEGIS_SECRET_ID, AEGIS_SECRET_KEY,
// AEGIS_SDKAPPID; NODE_EXTRA_CA_CERTS=<data_dir>/tls/cert.pem so that the
// self-signed certificate is verified like any other (never
// NODE_TLS_REJECT_UNAUTHORIZED=0). Run by rest_sdk_test.sh. Exits non-zero
// when any check fails.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const https = require('node:https');

const tencentcloud = require('tencentcloud-sdk-nodejs');

const TrtcClient = tencentcloud.trtc.v20190722.Client;

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`missing environment variable ${name}`);
  }
  return v;
}

const ADDR = env('AEGIS_ADDR');
const SECRET_ID = env('AEGIS_SECRET_ID');
const SECRET_KEY = env('AEGIS_SECRET_KEY');
const SDKAPPID = Number(env('AEGIS_SDKAPPID'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function client(secretId = SECRET_ID, secretKey = SECRET_KEY) {
  return new TrtcClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: ADDR, reqTimeout: 15 } },
  });
}

// Calls an SDK method expecting a cloud-API error; returns the error.
async function expectSdkError(promise, code) {
  try {
    const res = await promise;
    assert.fail(`expected ${code}, got success ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) {
      throw e;
    }
    assert.equal(e.code, code, `error code (message: ${e.message})`);
    assert.match(e.requestId, UUID, 'error carries the RequestId');
    assert.ok(e.message && e.message.length > 0, 'error has a message');
    assert.ok(!e.message.includes(SECRET_KEY), 'message never echoes the SecretKey');
    return e;
  }
  return null;
}

// ---- own TC3-HMAC-SHA256 signer (independent of the SDK) ----

function sha256Hex(s) {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex');
}
function hmac(key, s) {
  return crypto.createHmac('sha256', key).update(s, 'utf8').digest();
}

function signedRequest({
  action, body, version = '2019-07-22', timestamp = Math.floor(Date.now() / 1000),
  secretId = SECRET_ID, secretKey = SECRET_KEY, service = 'trtc',
}) {
  const host = ADDR;
  const contentType = 'application/json; charset=utf-8';
  const canonicalHeaders = `content-type:${contentType}\nhost:${host}\n`;
  const signedHeaders = 'content-type;host';
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256Hex(body)]
    .join('\n');
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), scope, sha256Hex(canonicalRequest)]
    .join('\n');
  const kDate = hmac(`TC3${secretKey}`, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, 'tc3_request');
  const signature = crypto.createHmac('sha256', kSigning).update(stringToSign, 'utf8')
    .digest('hex');
  const authorization = `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  const headers = {
    'Authorization': authorization,
    'Content-Type': contentType,
    'Host': host,
    'X-TC-Action': action,
    'X-TC-Timestamp': String(timestamp),
    'X-TC-Region': 'ap-guangzhou',
  };
  if (version !== null) {
    headers['X-TC-Version'] = version;
  }
  return post(headers, body);
}

// One HTTPS request; the certificate is verified (NODE_EXTRA_CA_CERTS).
// `contentLength` announces a length other than the body's (the body is then
// written but the request is not ended: for refusals at header time).
function request({ method = 'POST', path = '/', headers = {}, body = '', contentLength }) {
  const [hostname, port] = [ADDR.slice(0, ADDR.lastIndexOf(':')), ADDR.slice(ADDR.lastIndexOf(':') + 1)];
  return new Promise((resolve, reject) => {
    const req = https.request({
      hostname, port: Number(port), path, method,
      headers: { ...headers, 'Content-Length': contentLength ?? Buffer.byteLength(body) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        req.destroy();
        try {
          resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(data) });
        } catch (e) {
          reject(new Error(`non-JSON answer (${res.statusCode}): ${data}`));
        }
      });
    });
    req.on('error', reject);
    if (contentLength === undefined) {
      req.end(body);
    } else {
      req.write(body);
    }
  });
}

function post(headers, body) {
  return request({ headers, body });
}

// A transport error: its own HTTP status, the API's error envelope.
function expectTransportError(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.match(res.headers['content-type'], /^application\/json/);
  const r = res.json.Response;
  assert.ok(r && r.Error, `envelope with Response.Error: ${JSON.stringify(res.json)}`);
  assert.equal(r.Error.Code, code, r.Error.Message);
  assert.equal(typeof r.Error.Message, 'string');
  assert.match(r.RequestId, UUID);
  return r;
}

function expectRawError(res, code) {
  assert.equal(res.status, 200, 'errors are HTTP 200 (SDKs read codes from 200 answers)');
  assert.match(res.headers['content-type'], /^application\/json/);
  const r = res.json.Response;
  assert.ok(r, `envelope has Response: ${JSON.stringify(res.json)}`);
  assert.match(r.RequestId, UUID);
  assert.ok(r.Error, `expected an error ${code}: ${JSON.stringify(res.json)}`);
  assert.equal(r.Error.Code, code, r.Error.Message);
  assert.equal(typeof r.Error.Message, 'string');
  return r;
}

// ---- the checks ----

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

const now = () => Math.floor(Date.now() / 1000);

check('SDK DescribeRoomInfo answers a well-formed empty page', async () => {
  const res = await client().DescribeRoomInfo({
    SdkAppId: SDKAPPID, StartTime: now() - 3600, EndTime: now(),
  });
  assert.match(res.RequestId, UUID);
  assert.equal(res.Total, 0);
  assert.deepEqual(res.RoomList, []);
});

check('SDK DescribeRoomInfo with paging and a RoomId', async () => {
  const res = await client().DescribeRoomInfo({
    SdkAppId: SDKAPPID, StartTime: now() - 3600, EndTime: now(), RoomId: '223',
    PageNumber: 0, PageSize: 100,
  });
  assert.equal(res.Total, 0);
  assert.ok(Array.isArray(res.RoomList));
});

check('SDK DescribeUserInfo answers a well-formed empty page', async () => {
  const res = await client().DescribeUserInfo({
    SdkAppId: SDKAPPID, CommId: `${SDKAPPID}_223_${now() - 60}`, StartTime: now() - 3600,
    EndTime: now(), UserIds: ['alice'],
  });
  assert.match(res.RequestId, UUID);
  assert.equal(res.Total, 0);
  assert.deepEqual(res.UserList, []);
});

check('SDK DismissRoom of a room that is not live: FailedOperation.RoomNotExist', async () => {
  await expectSdkError(client().DismissRoom({ SdkAppId: SDKAPPID, RoomId: 1234 }),
    'FailedOperation.RoomNotExist');
});

check('SDK DismissRoomByStrRoomId / RemoveUser / RemoveUserByStrRoomId', async () => {
  await expectSdkError(client().DismissRoomByStrRoomId({ SdkAppId: SDKAPPID, RoomId: 'abcd' }),
    'FailedOperation.RoomNotExist');
  await expectSdkError(client().RemoveUser({ SdkAppId: SDKAPPID, RoomId: 1234, UserIds: ['u1'] }),
    'FailedOperation.RoomNotExist');
  await expectSdkError(client().RemoveUserByStrRoomId({
    SdkAppId: SDKAPPID, RoomId: 'room_1001', UserIds: ['user_1', 'user_2'],
  }), 'FailedOperation.RoomNotExist');
});

check('SDK parameter validation: out of range, too many users', async () => {
  await expectSdkError(client().DismissRoom({ SdkAppId: SDKAPPID, RoomId: 0 }),
    'InvalidParameterValue');
  const eleven = Array.from({ length: 11 }, (_, i) => `u${i}`);
  await expectSdkError(client().RemoveUser({ SdkAppId: SDKAPPID, RoomId: 1, UserIds: eleven }),
    'InvalidParameterValue');
});

check('SDK with the SdkAppId of no account of ours: UnauthorizedOperation', async () => {
  await expectSdkError(client().DismissRoom({ SdkAppId: SDKAPPID + 999, RoomId: 1 }),
    'UnauthorizedOperation');
});

check('SDK with a wrong SecretKey: AuthFailure.SignatureFailure', async () => {
  const wrong = SECRET_KEY.split('').reverse().join('');
  await expectSdkError(client(SECRET_ID, wrong).DismissRoom({ SdkAppId: SDKAPPID, RoomId: 1 }),
    'AuthFailure.SignatureFailure');
});

check('SDK with an unknown SecretId: AuthFailure.SecretIdNotFound', async () => {
  await expectSdkError(
    client(`AKID${'Q'.repeat(32)}`, SECRET_KEY).DescribeRoomInfo({
      SdkAppId: SDKAPPID, StartTime: now() - 60, EndTime: now(),
    }),
    'AuthFailure.SecretIdNotFound');
});

check('raw: a correctly signed request succeeds (own signer agrees with the server)', async () => {
  const body = JSON.stringify({ SdkAppId: SDKAPPID, StartTime: now() - 60, EndTime: now() });
  const res = await signedRequest({ action: 'DescribeRoomInfo', body });
  assert.equal(res.status, 200);
  assert.ok(!res.json.Response.Error, JSON.stringify(res.json));
  assert.equal(res.json.Response.Total, 0);
});

check('raw: malformed JSON -> InvalidParameter', async () => {
  const r = expectRawError(
    await signedRequest({ action: 'DismissRoom', body: `{"SdkAppId": ${SDKAPPID}, "RoomId": ` }),
    'InvalidParameter');
  assert.match(r.Error.Message, /JSON/);
});

check('raw: unknown parameter -> UnknownParameter', async () => {
  expectRawError(await signedRequest({
    action: 'DismissRoom', body: JSON.stringify({ SdkAppId: SDKAPPID, RoomId: 1, Force: true }),
  }), 'UnknownParameter');
});

check('raw: missing parameter and wrong type', async () => {
  expectRawError(await signedRequest({
    action: 'DismissRoom', body: JSON.stringify({ SdkAppId: SDKAPPID }),
  }), 'MissingParameter');
  expectRawError(await signedRequest({
    action: 'DismissRoom', body: JSON.stringify({ SdkAppId: SDKAPPID, RoomId: '1' }),
  }), 'InvalidParameter');
});

check('raw: expired timestamp -> AuthFailure.SignatureExpire', async () => {
  expectRawError(await signedRequest({
    action: 'DismissRoom', body: JSON.stringify({ SdkAppId: SDKAPPID, RoomId: 1 }),
    timestamp: now() - 3600,
  }), 'AuthFailure.SignatureExpire');
});

check('raw: wrong version -> NoSuchVersion; unknown action -> InvalidAction', async () => {
  expectRawError(await signedRequest({
    action: 'DismissRoom', body: JSON.stringify({ SdkAppId: SDKAPPID, RoomId: 1 }),
    version: '2017-03-12',
  }), 'NoSuchVersion');
  expectRawError(await signedRequest({ action: 'DescribeCallDetail', body: '{}' }),
    'InvalidAction');
});

check('raw: no Authorization header -> AuthFailure.InvalidAuthorization', async () => {
  const body = '{}';
  expectRawError(await post({
    'Content-Type': 'application/json', 'X-TC-Action': 'DescribeRoomInfo',
    'X-TC-Version': '2019-07-22', 'X-TC-Timestamp': String(now()),
  }, body), 'AuthFailure.InvalidAuthorization');
});

check('transport: GET / -> 405 UnsupportedOperation with Allow: POST', async () => {
  const res = await request({ method: 'GET' });
  expectTransportError(res, 405, 'UnsupportedOperation');
  assert.equal(res.headers.allow, 'POST');
});

check('transport: unknown path -> 404 ResourceNotFound.Path', async () => {
  expectTransportError(await request({ path: '/v2/nope', body: '{}' }), 404,
    'ResourceNotFound.Path');
});

check('transport: body over server.max_body_bytes -> 413 RequestSizeLimitExceeded', async () => {
  // Refused from the announced length, before the body is read.
  expectTransportError(await request({
    headers: { 'Content-Type': 'application/json' }, body: '{', contentLength: 2 << 20,
  }), 413, 'RequestSizeLimitExceeded');
});

check('transport: header block over 16 KiB -> 431 RequestHeaderFieldsTooLarge', async () => {
  expectTransportError(await request({
    headers: { 'Content-Type': 'application/json', 'X-Pad': 'a'.repeat(20000) }, body: '{}',
  }), 431, 'RequestHeaderFieldsTooLarge');
});

(async () => {
  let failed = 0;
  for (const { name, fn } of checks) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      failed += 1;
      console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
    }
  }
  console.log(`${checks.length - failed}/${checks.length} checks passed`);
  process.exit(failed === 0 ? 0 : 1);
})();
