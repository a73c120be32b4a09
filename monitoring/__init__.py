"""Operations: alerts on partner health (e-mail, webhook) and the /metrics endpoint."""
