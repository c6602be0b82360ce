import t from 'tap';
import { securityEventOf } from '../../firmware/ocpp/link-security.js';
import { authorizationKeyProblem, profileOf, raiseRefusal, urlFor } from '../../firmware/ocpp/model/security-profile.js';

const ALL = { authorizationKey: true, centralSystemRoot: true, clientCertificate: true };

t.test('profileOf: the scheme, then the credentials', async (t) => {
  t.equal(profileOf({ url: 'ws://cs/ocpp', password: '', clientCertificate: false }), 0);
  t.equal(profileOf({ url: 'ws://cs/ocpp', password: 'pw', clientCertificate: true }), 1, 'ws:// never presents a certificate');
  t.equal(profileOf({ url: 'wss://cs/ocpp', password: 'pw', clientCertificate: false }), 2);
  t.equal(profileOf({ url: 'wss://cs/ocpp', password: '', clientCertificate: true }), 3);
});

t.test('urlFor: the scheme follows the profile, host, port and path stay', async (t) => {
  t.equal(urlFor('ws://cs.example:8180/steve/ocpp', 2), 'wss://cs.example:8180/steve/ocpp');
  t.equal(urlFor('wss://cs.example/ocpp', 3), 'wss://cs.example/ocpp');
  t.equal(urlFor('wss://cs.example/ocpp', 1), 'ws://cs.example/ocpp');
});

t.test('raiseRefusal: only raised, only with what the new profile needs', async (t) => {
  const table: Array<[0 | 1 | 2 | 3, string, Partial<typeof ALL>, RegExp | null]> = [
    [1, '2', {}, null],
    [1, '3', {}, null],
    [2, '3', {}, null],
    [0, '1', {}, null],
    [2, '2', {}, /only raised \(now 2\)/],
    [2, '1', {}, /only raised/],
    [3, '0', {}, /only raised/],
    [1, '4', {}, /not a security profile/],
    [1, '2.0', {}, /not a security profile/],
    [1, '', {}, /not a security profile/],
    [0, '1', { authorizationKey: false }, /AuthorizationKey/],
    [0, '2', { authorizationKey: false }, /AuthorizationKey/],
    [0, '3', { authorizationKey: false }, null],
    [1, '2', { centralSystemRoot: false }, /CentralSystemRootCertificate/],
    [1, '3', { centralSystemRoot: false }, /CentralSystemRootCertificate/],
    [2, '3', { clientCertificate: false }, /charge point certificate/],
  ];
  for (const [current, requested, missing, expected] of table) {
    const refusal = raiseRefusal(current, requested, { ...ALL, ...missing });
    if (expected === null) t.equal(refusal, null, `${current} -> ${requested}`);
    else t.match(refusal, expected, `${current} -> ${JSON.stringify(requested)} ${JSON.stringify(missing)}`);
  }
});

t.test('authorizationKeyProblem: 16 to 40 printable characters', async (t) => {
  t.equal(authorizationKeyProblem('0123456789abcdef'), null);
  t.equal(authorizationKeyProblem('x'.repeat(40)), null);
  t.match(authorizationKeyProblem('short'), /16 to 40/);
  t.match(authorizationKeyProblem('x'.repeat(41)), /16 to 40/);
  t.match(authorizationKeyProblem('with a space in it!!'), /printable/);
  t.match(authorizationKeyProblem('tab\there-0123456789'), /printable/);
});

t.test('securityEventOf: what a failed attempt is reported as', async (t) => {
  t.equal(securityEventOf({ reason: 'HTTP 401', httpStatus: 401 }), 'FailedToAuthenticateAtCentralSystem');
  t.equal(securityEventOf({ reason: 'x', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'InvalidCentralSystemCertificate');
  t.equal(securityEventOf({ reason: 'x', code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'InvalidCentralSystemCertificate');
  t.equal(securityEventOf({ reason: 'x', code: 'CERT_HAS_EXPIRED' }), 'InvalidCentralSystemCertificate');
  t.equal(securityEventOf({ reason: 'x', code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'InvalidCentralSystemCertificate');
  t.equal(securityEventOf({ reason: 'x', code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }), 'InvalidTLSVersion');
  t.equal(securityEventOf({ reason: 'x', code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }), 'InvalidTLSVersion');
  t.equal(securityEventOf({ reason: 'x', code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }), 'InvalidTLSCipherSuite');
  // What the WebSocket's HTTP request reports for the same alerts (seen in tls.test.ts).
  t.equal(
    securityEventOf({
      reason:
        'write EPROTO 80FC:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:rec_layer_s3.c:1601:SSL alert number 70',
      code: 'EPROTO',
    }),
    'InvalidTLSVersion',
  );
  t.equal(
    securityEventOf({
      reason:
        'write EPROTO 80FC:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:rec_layer_s3.c:1601:SSL alert number 40',
      code: 'EPROTO',
    }),
    'InvalidTLSCipherSuite',
  );
  t.equal(securityEventOf({ reason: 'x', code: 'ECONNREFUSED' }), null, 'an unreachable backend is no security event');
  t.equal(securityEventOf({ reason: 'HTTP 404', httpStatus: 404 }), null);
});
