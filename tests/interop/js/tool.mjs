// Independent implementation bridge for Insignia's interop tests.
// Reads one JSON request on stdin, writes one JSON answer on stdout.
// Ops: "sign" (eddsa-rdfc-2022 with @digitalbazaar/vc), "verify", "canonize" (rdf-canonize via jsonld.js).
// Contexts come only from the official bundle (shared/spec/contexts/manifest.json) and from the
// documents passed in the request; any other URL is refused, so nothing touches the network.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import jsonld from 'jsonld';

const input = JSON.parse(readFileSync(0, 'utf8'));
const manifestPath = input.contextsManifest;
const manifestDir = path.dirname(manifestPath);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')).contexts;
const extra = input.documents || {};

async function documentLoader(url) {
  const bare = url.split('#')[0];
  for (const key of [url, bare]) {
    if (extra[key]) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(extra[key])};
    }
  }
  if (manifest[url]) {
    const document = JSON.parse(readFileSync(path.join(manifestDir, manifest[url]), 'utf8'));
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`refused to load ${url}`);
}

async function keyPair() {
  return Ed25519Multikey.from({
    id: input.key.id,
    controller: input.key.controller,
    publicKeyMultibase: input.key.publicKeyMultibase,
    secretKeyMultibase: input.key.secretKeyMultibase,
  });
}

async function run() {
  if (input.op === 'canonize') {
    const nquads = await jsonld.canonize(input.document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true,
    });
    return {nquads};
  }
  if (input.op === 'canonize-nquads') {
    const {default: canonize} = await import('rdf-canonize');
    const dataset = canonize.NQuads.parse(input.nquads);
    const nquads = await canonize.canonize(dataset, {algorithm: 'RDFC-1.0'});
    return {nquads};
  }
  if (input.op === 'sign') {
    const signer = (await keyPair()).signer();
    const suite = new DataIntegrityProof({signer, cryptosuite: eddsaRdfc2022CryptoSuite, date: input.created});
    const signed = await vc.issue({credential: input.credential, suite, documentLoader});
    return {credential: signed};
  }
  if (input.op === 'verify') {
    const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
    const result = await vc.verifyCredential({
      credential: input.credential, suite, documentLoader, checkStatus: async () => ({verified: true}),
      now: input.now ? new Date(input.now) : undefined,
    });
    const errors = [];
    const collect = (e) => { if (e) errors.push(String(e.message || e)); };
    collect(result.error);
    for (const r of result.results || []) collect(r.error);
    return {verified: result.verified, errors};
  }
  throw new Error(`unknown op ${input.op}`);
}

run().then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (err) => { process.stdout.write(JSON.stringify({error: String(err && err.stack || err)})); process.exitCode = 0; },
);
