import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GraphQLModule,
  ID,
  Int,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import request from 'supertest';
import { LimiterService, RateLimit, RateSyncModule } from '../../lib/nest';
import { createApp, type AdapterName, type TestApp } from './support/create-app';

@ObjectType()
class Item {
  @Field(() => ID)
  id!: string;
}

@Resolver(() => Item)
class ItemsResolver {
  @Query(() => Item)
  @RateLimit('per_user', { key: 'user:{headers.x-user}' })
  item(@Args('id', { type: () => ID }) id: string): Item {
    return { id };
  }

  @Mutation(() => Int)
  @RateLimit('per_user', { key: 'item:{args.id}' })
  touch(@Args('id', { type: () => ID }) id: string): number {
    return id.length;
  }

  @Query(() => String)
  @RateLimit('per_user')
  whoami(): string {
    return 'you';
  }

  @Query(() => [Item])
  items(): Item[] {
    return [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  }

  @ResolveField(() => Int)
  @RateLimit('pricing', { key: false })
  price(@Parent() item: Item): number {
    return item.id.charCodeAt(0);
  }

  @Query(() => Int)
  @RateLimit('slot', { key: false })
  failing(): Promise<number> {
    return Promise.reject(new Error('resolver failed'));
  }
}

// Field resolvers run interceptors only with `fieldResolverEnhancers: ['interceptors']`. Mercurius's
// query cache is off because it is loaded with a dynamic import(), which jest's CommonJS cannot run.
const DRIVERS: Record<AdapterName, ApolloDriverConfig | MercuriusDriverConfig> = {
  express: {
    driver: ApolloDriver,
    autoSchemaFile: true,
    playground: false,
    fieldResolverEnhancers: ['interceptors'],
  },
  fastify: {
    driver: MercuriusDriver,
    autoSchemaFile: true,
    graphiql: false,
    cache: false,
    fieldResolverEnhancers: ['interceptors'],
  },
};

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

describe.each([
  ['Apollo', 'express'],
  ['Mercurius', 'fastify'],
] as const)('GraphQL on %s (@nestjs/graphql)', (_driver, adapter) => {
  let t: TestApp;
  const gql = (query: string, headers: Record<string, string> = {}) =>
    request(t.url).post('/graphql').set(headers).send({ query });

  beforeEach(async () => {
    t = await createApp(adapter, {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_user: { store: 'mem', algorithm: 'sliding_window', limit: 1, windowSeconds: 60 },
            pricing: { store: 'mem', algorithm: 'sliding_window', limit: 2, windowSeconds: 60 },
            slot: { store: 'mem', maxConcurrent: 1 },
          },
          nonHttp: true,
        }),
        GraphQLModule.forRoot(DRIVERS[adapter]),
      ],
      providers: [ItemsResolver],
    });
  });
  afterEach(() => t.close());

  it('admits, then rejects with extensions.code RATE_LIMITED, the limiter and Retry-After', async () => {
    const first = await gql('{ item(id: "1") { id } }', { 'x-user': 'ann' });
    expect(first.body).toEqual({ data: { item: { id: '1' } } });
    const second = await gql('{ item(id: "2") { id } }', { 'x-user': 'ann' });
    const body = second.body as GraphqlAnswer;
    expect(second.status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors?.[0]).toMatchObject({
      message: "Rate limit 'per_user' exceeded. Retry in 60 seconds.",
      path: ['item'],
      extensions: { code: 'RATE_LIMITED', limiter: 'per_user', retryAfter: 60 },
    });
    expect(body.errors?.[0].extensions?.retryAfterMs).toBeGreaterThan(59_000);
    expect(second.headers['retry-after']).toBe('60');
    // Another user has their own bucket.
    expect((await gql('{ item(id: "3") { id } }', { 'x-user': 'bob' })).body).toEqual({
      data: { item: { id: '3' } },
    });
  });

  it('keys mutations by the resolver arguments ({args.id}) and queries by the client IP', async () => {
    expect((await gql('mutation { touch(id: "x1") }')).body).toEqual({ data: { touch: 2 } });
    const again = (await gql('mutation { touch(id: "x1") }')).body as GraphqlAnswer;
    expect(again.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect((await gql('mutation { touch(id: "x22") }')).body).toEqual({ data: { touch: 3 } });
    expect((await gql('{ whoami }')).body).toEqual({ data: { whoami: 'you' } });
    const limiters = t.app.get(LimiterService);
    expect((await limiters.state('per_user', 'item:x1')).remaining).toBe(0);
    expect((await limiters.state('per_user', '127.0.0.1')).remaining).toBe(0);
  });

  it('limits a field resolver per call: one query for three items takes three', async () => {
    const body = (await gql('{ items { id price } }')).body as GraphqlAnswer;
    expect(body.data).toBeNull(); // price is non-null: the third item's error nulls the list
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0].path?.map(String)).toEqual(['items', '2', 'price']); // Mercurius: '2'
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limiter: 'pricing' });
    expect(t.app.get(LimiterService).metrics('pricing')).toMatchObject({
      allowed: 2,
      rejected: 1,
    });
  });

  it('releases the slot when the resolver fails', async () => {
    for (let i = 0; i < 2; i++) {
      const body = (await gql('{ failing }')).body as GraphqlAnswer;
      expect(body.errors?.[0].message).toBe('resolver failed');
    }
    expect((await t.app.get(LimiterService).state('slot')).inFlight).toBe(0);
  });
});

describe('GraphQL boot check', () => {
  it('fails the boot on a limited field resolver that Nest would run without interceptors', async () => {
    const boot = createApp('express', {
      imports: [
        RateSyncModule.forRoot({
          configFile: false,
          stores: { mem: { engine: 'memory' } },
          limiters: {
            per_user: { store: 'mem', maxConcurrent: 1 },
            pricing: { store: 'mem', maxConcurrent: 1 },
            slot: { store: 'mem', maxConcurrent: 1 },
          },
          nonHttp: true,
        }),
        GraphQLModule.forRoot({ driver: ApolloDriver, autoSchemaFile: true, playground: false }),
      ],
      providers: [ItemsResolver],
    });
    await expect(boot).rejects.toThrow(
      "@RateLimit on the field resolver(s) ItemsResolver.price: @nestjs/graphql runs interceptors on field resolvers only with GraphQLModule.forRoot({ fieldResolverEnhancers: ['interceptors'] })",
    );
  });
});
