import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateSyncModule } from '@rate-sync/nestjs';
import { AuthController } from './auth.controller';
import { HelloController } from './hello.controller';
import { MetricsController } from './metrics.controller';
import { PartnerController } from './partner.controller';
import { PartnerService } from './partner.service';
import { rateSyncOptions } from './rate-sync-options';
import { ReportsController } from './reports.controller';

@Module({
  // Global by default: LimiterService is injectable everywhere, the guard covers every route.
  imports: [RateSyncModule.forRoot(rateSyncOptions()), TerminusModule],
  controllers: [
    HelloController,
    AuthController,
    ReportsController,
    PartnerController,
    MetricsController,
  ],
  providers: [PartnerService],
})
export class AppModule {}
