/**
 * Settings that decide who may talk to the sidecar and what leaves it: receiver TLS (and mTLS),
 * bearer-token auth, client TLS for forwarding, and `privacy:` (attributes dropped or hashed
 * before anything leaves the process in a signal).
 */
import * as s from './spec.js';

/** Server TLS of a receiver; off while `cert_file` is empty. `client_ca_file` turns on mTLS. */
export const serverTlsSpec = s.object(
  {
    cert_file: s.string({ default: '' }),
    key_file: s.string({ default: '' }),
    /** CA bundle that client certificates must chain to; set = clients without one are refused. */
    client_ca_file: s.string({ default: '' }),
  },
  {
    check(t, issue, path) {
      if ((t.cert_file === '') !== (t.key_file === '')) issue(s.join(path, t.cert_file === '' ? 'cert_file' : 'key_file'), 'cert_file and key_file go together');
      if (t.client_ca_file !== '' && t.cert_file === '') issue(s.join(path, 'client_ca_file'), 'mTLS needs the server certificate too (cert_file, key_file)');
    },
  },
);

/** Server TLS settings. */
export type ServerTlsConfig = s.SpecValue<typeof serverTlsSpec>;

/** Receiver auth: off while `bearer_tokens_file` is empty. */
export const receiverAuthSpec = s.object({
  /** File with one accepted token per line (`#` comments); re-read when it changes. */
  bearer_tokens_file: s.string({ default: '' }),
});

/** Receiver auth settings. */
export type ReceiverAuthConfig = s.SpecValue<typeof receiverAuthSpec>;

/** Client TLS for connections the sidecar opens (forwarding); used for https:// endpoints. */
export const clientTlsSpec = s.object(
  {
    /** CA bundle to verify the server with; empty = the system's roots. */
    ca_file: s.string({ default: '' }),
    /** Client certificate and key, for upstreams that require mTLS. */
    cert_file: s.string({ default: '' }),
    key_file: s.string({ default: '' }),
    insecure_skip_verify: s.boolean({ default: false }),
  },
  {
    check(t, issue, path) {
      if ((t.cert_file === '') !== (t.key_file === '')) issue(s.join(path, t.cert_file === '' ? 'cert_file' : 'key_file'), 'cert_file and key_file go together');
    },
  },
);

/** Client TLS settings. */
export type ClientTlsConfig = s.SpecValue<typeof clientTlsSpec>;

/** Schema of `privacy:`. */
export const privacySpec = s.object(
  {
    /** Attribute keys removed from everything a signal carries (evidence, dimensions, exemplars). */
    drop_attributes: s.list(s.string({ default: '', nonEmpty: true })),
    /** Attribute keys whose values are replaced by a salted hash (`sha256:<16 hex>`): still groupable, not readable. */
    hash_attributes: s.list(s.string({ default: '', nonEmpty: true })),
    /** Secret mixed into the hash so values cannot be guessed by hashing candidates. */
    salt: s.string({ default: '' }),
  },
  {
    check(p, issue, path) {
      if (p.hash_attributes.length > 0 && p.salt === '') issue(s.join(path, 'salt'), 'hash_attributes needs a salt (e.g. "${env:FRICTION_HASH_SALT}"), or the hashes of small value sets can be reversed');
      const both = p.hash_attributes.filter((k) => p.drop_attributes.includes(k));
      for (const k of both) issue(s.join(path, 'hash_attributes'), `"${k}" is also dropped; list it in one of the two`);
    },
  },
);

/** `privacy:` settings. */
export type PrivacyConfig = s.SpecValue<typeof privacySpec>;
