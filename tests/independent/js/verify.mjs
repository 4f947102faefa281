#!/usr/bin/env node
/*
 * An independent check of the ledger's credentials with Digital Bazaar's verifier libraries
 * (@digitalbazaar/vc, the eddsa-rdfc-2022 Data Integrity cryptosuite and the Bitstring Status
 * List checker), as a relying party that uses them would. Nothing here comes from the ledger.
 *
 * Usage: node verify.mjs [job.json]   (the job is read from standard input without a file)
 *
 * The job: {"credentials": [...], "documents": {"url": document}, "now": "optional ISO time"}
 * ("issuerMustControlKey": false checks a test vector's proof without the VC rule that the
 * issuer controls the signing key). A JSON array of jobs is checked job by job (each with its
 * own documents: the same status list at two moments) and answered with an array.
 * The document loader is offline: it answers from the JSON-LD contexts that ship with the npm
 * packages (these win over any copy in the job), then from the job's documents; a did:key is
 * expanded by @digitalbazaar/did-method-key, a did:web is read from the job's document at its
 * `/.well-known/did.json` address (https, or http as the ledger serves it in tests). Anything
 * else is refused, so a credential that needs the network fails here.
 *
 * Output (standard output, one JSON object per job): {"results": [...]} with, per credential:
 *   id               the credential's id
 *   verified         the verdict: the library verified proof, dates and status list, AND no
 *                    status entry of purpose "revocation" or "suspension" has its bit set
 *   libraryVerified  what vc.verifyCredential itself returned (it does not read the bit)
 *   statusVerified   whether the status list credential(s) could be fetched and verified
 *   statuses         [{statusPurpose, statusListCredential, statusListIndex, set}]
 *   refused          "revoked" | "suspended" | null: why a verified credential was refused
 *   proofs           [{cryptosuite, verified}] for the proofs the rdfc suite matched
 *   errors           error messages (proof, dates, status, documents that were not offline)
 */
import {readFile} from 'node:fs/promises';

import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import multikeyContext from '@digitalbazaar/multikey-context';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as bslContexts} from '@digitalbazaar/vc-bitstring-status-list-context';
import didContext from 'did-context';
import jsigs from 'jsonld-signatures';

const REFUSING_PURPOSES = {revocation: 'revoked', suspension: 'suspended'};

const didKeyDriver = didKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

/** Contexts that ship with the npm packages: the verifier's own copies. */
function packagedDocuments() {
  return new Map([
    ...credentialsContexts,
    ...bslContexts,
    ...dataIntegrityContext.contexts,
    ...multikeyContext.contexts,
    ...didContext.contexts
  ]);
}

/** did:web method-specific id to the address of its DID document (did:web spec 3.2). */
function didWebAddresses(did) {
  const segments = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const [host, ...path] = segments;
  const tail = path.length ? `/${path.join('/')}/did.json` : '/.well-known/did.json';
  return [`https://${host}${tail}`, `http://${host}${tail}`];
}

function createDocumentLoader({documents, misses}) {
  const packaged = packagedDocuments();
  const answer = (url, document) => ({contextUrl: null, documentUrl: url, document});

  async function resolveDid(url) {
    const [did, fragment] = url.split('#');
    if(did.startsWith('did:key:')) {
      return didKeyDriver.get({url});
    }
    if(did.startsWith('did:web:')) {
      const address = didWebAddresses(did).find(a => a in documents);
      const didDocument = address && documents[address];
      if(!didDocument || didDocument.id !== did) {
        return undefined;
      }
      if(fragment === undefined) {
        return didDocument;
      }
      const method = (didDocument.verificationMethod || []).find(m => m.id === url);
      return method && {'@context': didDocument['@context'], ...method};
    }
    return undefined;
  }

  return async function documentLoader(url) {
    if(packaged.has(url)) {
      return answer(url, packaged.get(url));
    }
    if(url.startsWith('did:')) {
      const document = await resolveDid(url);
      if(document) {
        return answer(url, document);
      }
    } else if(Object.prototype.hasOwnProperty.call(documents, url)) {
      return answer(url, documents[url]);
    }
    misses.add(url);
    throw new Error(`offline document loader: no document for "${url}"`);
  };
}

function messages(error) {
  if(!error) {
    return [];
  }
  if(Array.isArray(error)) {
    return error.flatMap(messages);
  }
  const own = `${error.name && error.name !== 'Error' ? error.name + ': ' : ''}` +
    `${error.message || String(error)}`;
  return [own, ...messages(error.cause)];
}

async function verifyOne({credential, documents, now, issuerMustControlKey}) {
  const misses = new Set();
  const documentLoader = createDocumentLoader({documents, misses});
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const options = {credential, suite, documentLoader, checkStatus};
  if(now) {
    options.now = now;
  }
  if(issuerMustControlKey === false) {
    // test vectors whose issuer is not the key's controller: the proof and its purpose only
    options.purpose = new jsigs.purposes.AssertionProofPurpose();
  }
  const result = await vc.verifyCredential(options);

  const errors = [...messages(result.error)];
  for(const proofResult of result.results || []) {
    if(proofResult.error && proofResult.error !== result.error) {
      errors.push(...messages(proofResult.error));
    }
  }
  const statusResult = result.statusResult;
  if(statusResult && statusResult.error) {
    errors.push(...messages(statusResult.error));
  }
  const statuses = ((statusResult && statusResult.results) || []).map(r => ({
    statusPurpose: r.credentialStatus.statusPurpose,
    statusListCredential: r.credentialStatus.statusListCredential,
    statusListIndex: r.credentialStatus.statusListIndex,
    set: r.status
  }));
  const refusing = statuses.find(s => s.set && s.statusPurpose in REFUSING_PURPOSES);
  const refused = refusing ? REFUSING_PURPOSES[refusing.statusPurpose] : null;
  if(refused) {
    errors.push(`status: ${refused} (bit ${refusing.statusListIndex} of ` +
      `${refusing.statusListCredential} is set)`);
  }
  for(const url of misses) {
    errors.push(`not available offline: ${url}`);
  }
  return {
    id: credential && credential.id,
    verified: result.verified === true && !refused,
    libraryVerified: result.verified === true,
    statusVerified: statusResult ? statusResult.verified === true : null,
    statuses,
    refused,
    proofs: (result.results || []).filter(r => r.proof).map(r => ({
      cryptosuite: r.proof.cryptosuite,
      verified: r.verified === true
    })),
    errors: [...new Set(errors)]
  };
}

async function runJob(job) {
  const documents = job.documents || {};
  const results = [];
  for(const credential of job.credentials || []) {
    results.push(await verifyOne({
      credential, documents, now: job.now,
      issuerMustControlKey: job.issuerMustControlKey
    }));
  }
  return {results};
}

async function main() {
  const path = process.argv[2];
  const text = path ? await readFile(path, 'utf8') : await readStdin();
  const input = JSON.parse(text);
  const output = Array.isArray(input) ?
    await Promise.all(input.map(runJob)) : await runJob(input);
  process.stdout.write(JSON.stringify(output, null, 2) + '\n');
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

main().catch(error => {
  process.stderr.write(`verify.mjs: ${error.stack || error}\n`);
  process.exit(2);
});
