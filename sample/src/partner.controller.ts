import { Controller, Get } from '@nestjs/common';
import { PartnerService } from './partner.service';

@Controller('partner')
export class PartnerController {
  constructor(private readonly partner: PartnerService) {}

  @Get('quote')
  quote(): Promise<{ price: number; at: string }> {
    return this.partner.quote();
  }
}
