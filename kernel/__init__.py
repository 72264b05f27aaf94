"""The reference trading kernel: Guard, PaperExchange, TradeAudit and an MA-crossover loop on paper."""
