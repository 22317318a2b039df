import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { createSchemaRegistry, loadConfig } from '../../infra/src/index.ts';
import { uniqueId } from './helpers.ts';

const config = loadConfig();
const registry = createSchemaRegistry(config);
const id = uniqueId();
const subject = `it.registry.${id}-value`;

const schema = (fields: object[]) =>
  JSON.stringify({ type: 'record', name: 'StatusUpdate', namespace: `it.r${id}`, fields });
const v1 = schema([
  { name: 'msisdn', type: 'string' },
  { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NORMAL', 'CHURNED'] } },
]);
const v2 = schema([
  { name: 'msisdn', type: 'string' },
  { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NORMAL', 'CHURNED'] } },
  { name: 'operator', type: 'string', default: 'UNKNOWN' },
]);
const incompatible = schema([
  { name: 'msisdn', type: 'string' },
  { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NORMAL', 'CHURNED'] } },
  { name: 'required', type: 'long' },
]);

describe('local schema registry with @kafkajs/confluent-schema-registry', () => {
  it('registers, finds, encodes and decodes an Avro schema', async () => {
    const { id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    const again = await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    expect(again.id).toBe(schemaId);
    expect(await registry.getLatestSchemaId(subject)).toBe(schemaId);

    const encoded = await registry.encode(schemaId, { msisdn: '2348012345678', status: 'CHURNED' });
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(schemaId);
    // A fresh client has no cache: decoding fetches the schema by id from the server.
    const decoded = await createSchemaRegistry(config).decode(encoded);
    expect(decoded).toEqual({ msisdn: '2348012345678', status: 'CHURNED' });
  });

  it('accepts a BACKWARD-compatible version and refuses an incompatible one with 409', async () => {
    const { id: v2Id } = await registry.register({ type: SchemaType.AVRO, schema: v2 }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(v2Id);

    await expect(
      registry.register({ type: SchemaType.AVRO, schema: incompatible }, { subject }),
    ).rejects.toThrow(/incompatible/);
    const response = await fetch(`${config.SCHEMA_REGISTRY_URL}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: incompatible }),
    });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/vnd.schemaregistry.v1+json');
    expect(await response.json()).toMatchObject({ error_code: 409 });
    expect(await registry.getLatestSchemaId(subject)).toBe(v2Id);
  });

  it('answers the Confluent REST endpoints the hub uses', async () => {
    const base = `${config.SCHEMA_REGISTRY_URL}`;
    const json = async (path: string, init?: RequestInit) => (await fetch(`${base}${path}`, init)).json();
    expect(await json(`/subjects/${subject}/versions`)).toEqual([1, 2]);
    expect(await json('/subjects')).toContain(subject);
    expect(await json(`/config/${subject}`)).toEqual({ compatibilityLevel: 'BACKWARD' });
    const check = await json(`/compatibility/subjects/${subject}/versions/latest`, {
      method: 'POST',
      body: JSON.stringify({ schema: incompatible }),
    });
    expect(check).toEqual({ is_compatible: false });
    const lookup = await json(`/subjects/${subject}`, {
      method: 'POST',
      body: JSON.stringify({ schema: v1 }),
    });
    expect(lookup).toMatchObject({ subject, version: 1 });
    expect(await json(`/schemas/ids/${lookup.id}/schema`)).toEqual(JSON.parse(v1));

    const other = `it.registry.${id}.none-value`;
    await json(`/config/${other}`, { method: 'PUT', body: JSON.stringify({ compatibility: 'NONE' }) });
    await json(`/subjects/${other}/versions`, { method: 'POST', body: JSON.stringify({ schema: v1 }) });
    const accepted = await json(`/subjects/${other}/versions`, {
      method: 'POST',
      body: JSON.stringify({ schema: incompatible }),
    });
    expect(accepted).toHaveProperty('id');
    expect(await json(`/subjects/${other}`, { method: 'DELETE' })).toEqual([1, 2]);
    expect((await fetch(`${base}/subjects/${other}/versions`)).status).toBe(404);
  });
});
