Feature: Customers are the same in Spotilla and Procountor
  As an accountant who invoices Spotilla's customers from Procountor
  I want each Spotilla customer to exist once in Procountor as a customer, and Procountor's customers in Spotilla
  so that work orders and invoices point at the same company in both systems

  Background:
    Given the organization uses the Procountor integration

  Scenario: A new Spotilla customer is created once in Procountor as a customer
    Given Spotilla's customer register has:
      | name        | business ID | payment term | billing e-mail     | phone      |
      | Rakennus Oy | 0112038-9   | 21           | laskut@rakennus.fi | 040 123456 |
    When the integration runs
    And the integration runs again
    Then Procountor has one customer "Rakennus Oy" with business ID "0112038-9"
    And in Procountor "Rakennus Oy" has payment term 21 days and e-mail "laskut@rakennus.fi"

  Scenario: A business ID written loosely is sent in its standard form
    Given Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | FI01120389  |
    When the integration runs
    Then Procountor has one customer "Rakennus Oy" with business ID "0112038-9"

  Scenario: A partner Procountor already has with the same business ID is linked, not duplicated
    Given Procountor already has a customer "Rakennus Oy Ab" with business ID "0112038-9"
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    When the integration runs
    Then Procountor has 1 partner with business ID "0112038-9"
    And Spotilla's customer with business ID "0112038-9" is linked to that partner

  Scenario: Two Spotilla customers with the same business ID make one customer in Procountor
    Given Spotilla's customer register has:
      | name              | business ID |
      | Rakennus Oy       | 0112038-9   |
      | Rakennus Oy (old) | 0112038-9   |
    When the integration runs
    Then Procountor has 1 partner with business ID "0112038-9"
    And customer "Rakennus Oy (old)" is held back because DUPLICATE_CUSTOMER

  Scenario Outline: A customer without a name or a valid business ID stays in Spotilla only
    Given Spotilla's customer register has:
      | name   | business ID   |
      | <name> | <business ID> |
    When the integration runs
    Then Procountor has no partners
    And the customer with business ID "<business ID>" is held back because <reason>

    Examples:
      | name        | business ID | reason                  |
      |             | 0112038-9   | CUSTOMER_NAME_MISSING   |
      | Rakennus Oy |             | BUSINESS_ID_MISSING     |
      | Rakennus Oy | 0112038     | BUSINESS_ID_MALFORMED   |
      | Rakennus Oy | 0112038-8   | BUSINESS_ID_CHECK_DIGIT |

  Scenario: A customer whose country Procountor does not know stays in Spotilla only
    Given Spotilla's customer register has:
      | name        | business ID | country |
      | Rakennus Oy | 0112038-9   | XX      |
    When the integration runs
    Then Procountor has no partners
    And customer "Rakennus Oy" is held back because FIELD_INVALID

  Scenario: A customer held back is created in Procountor once it is corrected
    Given Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-8   |
    And the integration has run
    When the business ID of customer "Rakennus Oy" is corrected to "0112038-9" in Spotilla
    And the integration runs again
    Then Procountor has one customer "Rakennus Oy" with business ID "0112038-9"

  Scenario: A Procountor customer that Spotilla does not have is created in Spotilla
    Given Procountor already has a customer "Uusi Asiakas Oy" with business ID "2077474-0"
    When the integration runs
    Then Spotilla has a customer "Uusi Asiakas Oy" with business ID "2077474-0"
    And Spotilla's customer "Uusi Asiakas Oy" has the billing address "Tilikatu 1, 00100 Helsinki"
    And the run report says 1 customer was created in Spotilla

  Scenario: A customer brought over from Procountor is not sent back to Procountor
    Given Procountor already has a customer "Uusi Asiakas Oy" with business ID "2077474-0"
    When the integration runs
    And the integration runs again
    Then Procountor has 1 partner with business ID "2077474-0"
    And Spotilla has 1 customer with business ID "2077474-0"

  Scenario: Suppliers in Procountor are not brought into Spotilla
    Given Procountor already has a supplier "Tukku Oy" with business ID "1572860-0"
    And Procountor already has a customer "Uusi Asiakas Oy" with business ID "2077474-0"
    When the integration runs
    Then Spotilla has no customer "Tukku Oy"
    And Spotilla has a customer "Uusi Asiakas Oy" with business ID "2077474-0"

  Scenario: A Spotilla customer without a name takes the name of the Procountor customer with its business ID
    Given Procountor already has a customer "Nimi Oy" with business ID "1572860-0"
    And Spotilla's customer register has:
      | name | business ID |
      |      | 1572860-0   |
    When the integration runs
    Then Procountor has 1 partner with business ID "1572860-0"
    And Spotilla has a customer "Nimi Oy" with business ID "1572860-0"
