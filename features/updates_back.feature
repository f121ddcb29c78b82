Feature: Changes made in Procountor come back to Spotilla
  As an accountant who keeps customers' billing details in Procountor
  I want a change I make to a linked customer in Procountor to overwrite the customer in Spotilla
  so that field staff and invoices use the billing details I maintain, and I never maintain them twice

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's customer register has:
      | name        | business ID | payment term | phone      | street       | postal code | city     |
      | Rakennus Oy | 0112038-9   | 21           | 040 123456 | Työmaantie 5 | 00500       | Helsinki |
    And the integration has run

  Scenario Outline: A change in Procountor overwrites Spotilla's customer (Procountor wins)
    When the accountant changes the <detail> of "Rakennus Oy" in Procountor to "<value>"
    And the integration runs
    Then Spotilla's customer with business ID "0112038-9" has the <detail> "<value>"
    And the run report says 1 customer was updated in Spotilla

    Examples:
      | detail              | value                 |
      | billing street      | Laskutuskuja 3        |
      | billing postal code | 33100                 |
      | billing city        | Tampere               |
      | payment term        | 30                    |
      | e-invoice address   | 003701120389          |
      | e-invoice operator  | E204503               |
      | billing e-mail      | reskontra@rakennus.fi |
      | name                | Rakennus Oyj          |

  Scenario: A whole new billing address comes back at once
    When the accountant changes the billing address of "Rakennus Oy" in Procountor to:
      | street         | postal code | city    |
      | Laskutuskuja 3 | 33100       | Tampere |
    And the integration runs
    Then Spotilla's customer with business ID "0112038-9" has the billing address "Laskutuskuja 3, 33100 Tampere"

  Scenario: Spotilla keeps its own site address and phone number
    When the accountant changes the billing street of "Rakennus Oy" in Procountor to "Laskutuskuja 3"
    And the integration runs
    Then Spotilla's customer "Rakennus Oy" still has the site address "Työmaantie 5, 00500 Helsinki"
    And Spotilla's customer "Rakennus Oy" still has the phone number "040 123456"

  Scenario: A change in Procountor wins over a change made in Spotilla meanwhile
    Given the payment term of customer "Rakennus Oy" is changed to 7 days in Spotilla
    When the accountant changes the payment term of "Rakennus Oy" in Procountor to "45"
    And the integration runs
    Then Spotilla's customer with business ID "0112038-9" has the payment term "45"

  Scenario: When nothing changes in Procountor, nothing is written to Spotilla
    Given the accountant changed the payment term of "Rakennus Oy" in Procountor to "30"
    And the integration has run
    When the integration runs again
    Then Spotilla's customers are exactly as they were before this run
    And the run report says nothing was updated

  Scenario: The next invoice uses the details changed in Procountor
    Given today is 2025-03-14 in Finland
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And the accountant changed the payment term of "Rakennus Oy" in Procountor to "30"
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then the invoice of task 501 is dated 2025-03-14, due 2025-04-13, delivered 2025-03-10

  Scenario: A customer removed from Spotilla does not come back when its partner changes in Procountor
    Given customer "Rakennus Oy" has been removed from Spotilla
    When the accountant changes the payment term of "Rakennus Oy" in Procountor to "30"
    And the integration runs
    Then the run succeeds
    And Spotilla has no customer "Rakennus Oy"

  Scenario: New work goes on being invoiced after a customer was removed and its partner changed
    Given Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
    And Spotilla's customer register also has:
      | name         | business ID |
      | Putkimies Oy | 1572860-0   |
    And a completed task 501 for "Putkimies Oy" with:
      | product | quantity |
      | ASE-1   | 2        |
    And customer "Rakennus Oy" has been removed from Spotilla
    When the accountant changes the payment term of "Rakennus Oy" in Procountor to "30"
    And the integration runs
    And the integration runs again
    Then the run succeeds
    And an invoice is made for task 501
    And Spotilla has no customer "Rakennus Oy"

  Scenario: A customer added again with the business ID of a removed one is paired with the same partner
    Given customer "Rakennus Oy" has been removed from Spotilla
    And the integration has run
    And Spotilla's customer register also has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    When the integration runs
    Then the run succeeds
    And Procountor has 1 partner with business ID "0112038-9"
    And Spotilla's customer with business ID "0112038-9" is linked to that partner

  Scenario: Changes come back to a customer added again after it was removed
    Given customer "Rakennus Oy" has been removed from Spotilla
    And the integration has run
    And Spotilla's customer register also has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And the integration has run
    When the accountant changes the billing street of "Rakennus Oy" in Procountor to "Laskutuskuja 3"
    And the integration runs
    Then Spotilla's customer with business ID "0112038-9" has the billing street "Laskutuskuja 3"
