Feature: The organization's admin looks after the Procountor integration in Settings → Integrations
  As the admin of an organization that uses Spotilla
  I want to switch the Procountor integration on with our own API key, run it, preview it, and see what waits and why
  so that our completed work becomes invoices in Procountor without anyone at Spotilla doing it for us,
  and what is held back is fixed and sent without retyping anything

  Spotilla's operators look after every organization from the same place; an organization's admin sees only its own.

  Background:
    Given the organization "Putkityö Virtanen Oy" uses Spotilla
    And Spotilla's product register has:
      | code  | name       | unit | unit price | VAT % |
      | ASE-1 | Asennustyö | h    | 62.00      | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And the task "Vesivuodon korjaus" for "Rakennus Oy" was completed today, with:
      | product | quantity |
      | ASE-1   | 2        |
    And the organization's admin has opened Settings → Integrations

  Scenario: The admin switches the integration on with the organization's API key
    When the admin switches the integration on with the organization's Procountor API key
    Then the integration is switched on, in the organization's company in Procountor
    And the page says an API key is stored, without showing it

  Scenario: A key Procountor refuses is not stored, and the admin is told how to create one
    When the admin switches the integration on with an API key Procountor does not accept
    Then the integration stays switched off
    And the API key field says Procountor refused the key
    And the API key field tells how to create one: "Basics → API client keys → New API key", with the integration's client id
    And no API key is stored

  Scenario: A wrong bank account is refused, with the reason on the bank account field
    When the admin switches the integration on with the bank account "FI49 5000 9420 0287 31"
    Then the integration stays switched off
    And the bank account field says "not a valid IBAN"
    And no API key is stored
