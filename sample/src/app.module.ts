import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GraphQLModule } from '@nestjs/graphql';
import { RateSyncModule } from '@rate-sync/nestjs';
import { AuthController } from './auth.controller';
import { HelloController } from './hello.controller';
import { MetricsController } from './metrics.controller';
import { NotesResolver } from './notes.resolver';
import { PartnerController } from './partner.controller';
import { PartnerService } from './partner.service';
import { rateSyncOptions } from './rate-sync-options';
import { ReportsController } from './reports.controller';

@Module({
  // Global by default: LimiterService is injectable everywhere, and the guard limits every
  // route that has a @RateLimit; routes without one take the defaultLimit of
  // rate-sync-options.ts (every route but /health and /metrics).
  imports: [
    RateSyncModule.forRoot(rateSyncOptions()),
    TerminusModule,
    // POST /graphql, on Express or Fastify; the schema is generated from the resolvers.
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      playground: false,
    }),
  ],
  controllers: [
    HelloController,
    AuthController,
    ReportsController,
    PartnerController,
    MetricsController,
  ],
  providers: [PartnerService, NotesResolver],
})
export class AppModule {}
