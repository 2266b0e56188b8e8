import { episodeTableDefinition, TABLE_INDEXES, TABLE_LAYOUT } from '../../layers/storage/src';
import { SKIP_BUNDLING, resourcesOf, synthesize, type Synthesized } from './synth';

/** The deployed table (CDK data stack) and the local one (provisioning) are both the table layout. */

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ context: SKIP_BUNDLING });
});
afterAll(() => synth?.cleanup());

interface TableShape {
  KeySchema?: { AttributeName?: string; KeyType?: string }[];
  AttributeDefinitions?: { AttributeName?: string; AttributeType?: string }[];
  GlobalSecondaryIndexes?: {
    IndexName?: string;
    KeySchema?: { AttributeName?: string; KeyType?: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }[];
}

/** Keys, attribute definitions and indexes, in a canonical order (CloudFormation and CreateTable name them alike). */
function shapeOf(table: TableShape) {
  const byName = <T>(name: (item: T) => string | undefined) => (a: T, b: T) => String(name(a)).localeCompare(String(name(b)));
  return {
    KeySchema: table.KeySchema,
    AttributeDefinitions: [...(table.AttributeDefinitions ?? [])].sort(byName((a) => a.AttributeName)),
    GlobalSecondaryIndexes: [...(table.GlobalSecondaryIndexes ?? [])].sort(byName((i) => i.IndexName)).map((index) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: { ProjectionType: index.Projection?.ProjectionType, NonKeyAttributes: [...(index.Projection?.NonKeyAttributes ?? [])].sort() },
    })),
  };
}

const keySchema = (partition: string, sort: string) => [
  { AttributeName: partition, KeyType: 'HASH' },
  { AttributeName: sort, KeyType: 'RANGE' },
];

/** The shape the layout module describes, written out from it. */
function layoutShape() {
  const { partitionKey, sortKey } = TABLE_LAYOUT;
  const keys = [partitionKey, sortKey, ...TABLE_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])];
  return shapeOf({
    KeySchema: keySchema(partitionKey.name, sortKey.name),
    AttributeDefinitions: [...new Map(keys.map((k) => [k.name, { AttributeName: k.name, AttributeType: k.type === 'string' ? 'S' : 'N' }])).values()],
    GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey.name, index.sortKey.name),
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projectedAttributes] },
    })),
  });
}

function deployedTable(): TableShape & { TimeToLiveSpecification?: unknown } {
  const tables = Object.values(resourcesOf(synth.templates.data, 'AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  return tables[0]!.Properties;
}

test('the data stack builds the table of the layout: keys, indexes, projections and TTL', () => {
  const table = deployedTable();
  expect(shapeOf(table)).toEqual(layoutShape());
  expect(table.TimeToLiveSpecification).toEqual({ AttributeName: TABLE_LAYOUT.ttlAttribute, Enabled: true });
});

test('the local CreateTable creates the same table', () => {
  expect(shapeOf(episodeTableDefinition('episodes'))).toEqual(shapeOf(deployedTable()));
  expect(shapeOf(episodeTableDefinition('episodes'))).toEqual(layoutShape());
});

test('neither index projects ALL attributes (the items are 17-60 KB and rewritten on every step)', () => {
  for (const index of deployedTable().GlobalSecondaryIndexes ?? []) {
    expect(index.Projection?.ProjectionType).toBe('INCLUDE');
    expect(index.Projection?.NonKeyAttributes).not.toContain('record');
    expect(index.Projection?.NonKeyAttributes).not.toContain('results');
  }
});
