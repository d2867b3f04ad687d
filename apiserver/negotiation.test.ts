import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseDiscoveryFormat, chooseObjectFormat, parseAccept } from './negotiation.js';

test('NEG-01: kubectl get asks for Table first, JSON as fallback', () => {
  const accept =
    'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  assert.deepEqual(chooseObjectFormat(parseAccept(accept)), { kind: 'table', version: 'v1' });
  assert.deepEqual(chooseObjectFormat(parseAccept('application/yaml')), { kind: 'yaml' });
  assert.deepEqual(chooseObjectFormat(parseAccept(undefined)), { kind: 'json' });
  // The metadata client's protobuf and PartialObjectMetadataList are not offered: its JSON fallback is served.
  const meta =
    'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
  assert.deepEqual(chooseObjectFormat(parseAccept(meta)), { kind: 'json' });
  assert.equal(chooseObjectFormat(parseAccept('application/vnd.kubernetes.protobuf')), undefined);
});

test('DISC-04/07: aggregated discovery only for the exact v2 type; 406 when nothing fits', () => {
  assert.equal(
    chooseDiscoveryFormat(parseAccept('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')),
    'aggregated-v2',
  );
  assert.equal(
    chooseDiscoveryFormat(
      parseAccept('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'),
    ),
    'legacy',
  );
  assert.equal(
    chooseDiscoveryFormat(parseAccept('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')),
    undefined,
  );
});
