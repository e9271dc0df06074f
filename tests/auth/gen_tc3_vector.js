// Known-answer TC3-HMAC-SHA256 vectors computed by the official Node SDK's
// signing code (tencentcloud-sdk-nodejs common/sign.js, Sign.sign3) with fixed
// inputs, the way its HttpConnection.doRequestWithSign3 calls it: service is
// the endpoint's first DNS label, `host` is signed without the port while the
// request carries `Host: name:port`.
'use strict';
const path = require('path');
const root = process.env.AEGIS_SOURCE_DIR || path.join(__dirname, '..', '..');
const Sign = require(path.join(root, 'node_modules', 'tencentcloud-sdk-nodejs', 'tencentcloud',
                               'common', 'sign.js')).default;

const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const TIMESTAMP = 1763805600;  // 2025-11-22T10:00:00Z

function vector(name, method, endpoint, query, payload, contentType) {
  const url = 'https://' + endpoint + '/' + (query ? '?' + query : '');
  const service = endpoint.split('.')[0];
  const headers = { 'Content-Type': contentType, Host: new URL(url).host };
  const authorization = Sign.sign3({
    method, url, payload, timestamp: TIMESTAMP, service, secretId: SECRET_ID,
    secretKey: SECRET_KEY, multipart: false, headers,
  });
  return {
    name, method, query, service, authorization,
    body: method === 'POST' ? JSON.stringify(payload) : '',
    content_type: contentType, host: headers.Host,
  };
}

process.stdout.write(JSON.stringify({
  secret_id: SECRET_ID,
  secret_key: SECRET_KEY,
  timestamp: TIMESTAMP,
  vectors: [
    vector('port_quirk', 'POST', '127.0.0.1:8443', '', { SdkAppId: 1400000001, RoomId: 1234 },
           'application/json'),
    vector('trtc', 'POST', 'trtc.tencentcloudapi.com', '', { SdkAppId: 1400000001, StrRoomId: 'r1' },
           'application/json'),
    vector('get', 'GET', 'trtc.tencentcloudapi.com', 'Limit=10&Offset=0', '',
           'application/x-www-form-urlencoded'),
  ],
}));
